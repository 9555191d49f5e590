"""The verification page's HTML (証明書の確認ページ): Japanese and English, plain HTML and a little
inline CSS, no script, no external resource. Every value is escaped; none is about the person.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from printing.verify import Outcome, Verdict

#: The outcome as a heading, Japanese and English.
HEADINGS: dict[Outcome, tuple[str, str]] = {
    Outcome.GENUINE: ("有効な証明書の写しです", "Genuine: a valid copy"),
    Outcome.ALTERED: ("改ざんされています", "Altered"),
    Outcome.VOIDED: ("取り消された写しです", "Voided copy"),
    Outcome.NOT_PRINTED: ("印刷されていない写しです", "Never printed"),
    Outcome.UNKNOWN: ("確認できません", "Unknown: not a copy we can confirm"),
    Outcome.UNCONFIRMED: ("有効かどうか確認できませんでした", "Not confirmed"),
}

#: Why an upload or the typed fields could not be checked, Japanese and English.
ERRORS: dict[str, tuple[str, str]] = {
    "not_an_image": (
        "画像(PNG・JPEG・TIFF)またはPDFではありません。",
        "This is not a PNG, JPEG or TIFF image, nor a PDF.",
    ),
    "too_large": ("ファイルが大きすぎます。", "The file is too large."),
    "no_code_found": (
        "検証用QRコードが見つかりません。ページ全体が写るように撮影・読み取りしてください。",
        "No verification code was found. Scan or photograph the whole page.",
    ),
    "damaged_code": (
        "QRコードが汚れているか欠けていて読み取れません。交付番号と検証コードを入力してください。",
        "The code is damaged and cannot be read. Type the issue number and the code instead.",
    ),
    "bad_form": (
        "交付番号と検証コードを確認してください(例: 20261123/131016/T-0001/01/000042 と 7K3M-Q0ZD-X4AT)。",
        "Check the issue number and the verification code "
        "(e.g. 20261123/131016/T-0001/01/000042 and 7K3M-Q0ZD-X4AT).",
    ),
    "bad_upload": (
        "送信された内容を読み取れません。もう一度お試しください。",
        "The form could not be read. Please try again.",
    ),
}

_STYLE = """
body{font-family:sans-serif;margin:0;background:#f4f4f0;color:#222}
main{max-width:46rem;margin:0 auto;padding:1rem 1.25rem 3rem}
h1{font-size:1.5rem}h2{font-size:1.1rem;margin-top:2rem}
.en{color:#555;font-size:.9em}
form{background:#fff;border:1px solid #ccc;padding:1rem;border-radius:.4rem}
label{display:block;margin:.5rem 0}input[type=text]{width:100%;font:inherit;padding:.3rem}
button{font:inherit;padding:.4rem 1.2rem;margin-top:.6rem}
.verdict,.error{border-left:.5rem solid #888;background:#fff;padding:.6rem 1rem;margin:1rem 0}
.genuine{border-color:#2a7d2a}.altered,.voided,.not_printed{border-color:#b22}.error{border-color:#b60}
dt{font-weight:bold;margin-top:.4rem}dd{margin:0 0 0 1rem;word-break:break-all}
.note{font-size:.9em;color:#444}
"""

_EXPLAINED = (
    '<section class="note"><h2>この確認でわかること <span class="en">What this check tells</span></h2>'
    "<p>QRコードが交付元の市区町村の署名どおりであること、その写しが取り消されておらず印刷されたことを確認します。"
    "印字された文字そのものは確認できません。ページ数をあわせ、内容が交付されたものと一致するかは書面でご確認ください。"
    "本人に関する情報は表示も記録もしません。</p>"
    '<p class="en">It checks that the code is signed by the issuing municipality and that the copy was '
    "printed and not voided. It cannot read the printed words: check the page count, and whether the text "
    "is what was issued, on the paper itself. Nothing about the person is shown or kept.</p></section>"
)


def page(verdicts: Sequence[Verdict] = (), error: str | None = None) -> str:
    """The whole page: the result (if any) above the two forms."""
    result = "".join(_verdict(v) for v in verdicts)
    if error is not None:
        ja, en = ERRORS[error]
        result += (
            f'<div class="error" data-error="{escape(error)}" role="alert"><p>{escape(ja)}</p>'
            f'<p class="en">{escape(en)}</p></div>'
        )
    return (
        '<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>証明書の確認 / Verify a certificate</title><style>{_STYLE}</style></head><body><main>"
        '<h1>証明書の確認 <span class="en">Verify a printed certificate</span></h1>'
        f'<div id="result">{result}</div>'
        '<h2>証明書の画像・PDFで確認 <span class="en">With a scan, photo or PDF of the page</span></h2>'
        '<form method="post" action="/verify" enctype="multipart/form-data">'
        '<label>ファイル <span class="en">File (PNG, JPEG, TIFF, PDF)</span>'
        '<input type="file" id="page" name="page" '
        'accept="image/png,image/jpeg,image/tiff,application/pdf" required></label>'
        '<button type="submit" id="upload">確認する / Verify</button></form>'
        '<h2>交付番号と検証コードで確認 <span class="en">With the issue number and the code</span></h2>'
        '<form method="post" action="/verify">'
        '<label>交付番号 <span class="en">Issue number</span><input type="text" id="issue_number" '
        'name="issue_number" maxlength="80" required autocomplete="off" '
        'placeholder="20261123/131016/T-0001/01/000042"></label>'
        '<label>検証コード <span class="en">Verification code</span><input type="text" id="code" name="code" '
        'maxlength="64" required autocomplete="off" placeholder="7K3M-Q0ZD-X4AT"></label>'
        '<button type="submit" id="typed">確認する / Verify</button></form>'
        f"{_EXPLAINED}</main></body></html>"
    )


def _verdict(verdict: Verdict) -> str:
    ja, en = HEADINGS[verdict.outcome]
    rows: list[tuple[str, str, str | None]] = [("交付番号", "Issue number", verdict.issue_number)]
    if verdict.page is not None:
        rows.append(("ページ", "Page", f"{verdict.page} / {verdict.pages}"))
    elif verdict.pages is not None:
        rows.append(("ページ数", "Pages", str(verdict.pages)))
    if verdict.municipality is not None:
        name = (
            f"{verdict.municipality_name} ({verdict.municipality})"
            if verdict.municipality_name
            else verdict.municipality
        )
        rows.append(("市区町村", "Municipality", name))
    rows.append(("交付日", "Issued on", verdict.issued_on))
    if verdict.outcome is Outcome.GENUINE:
        rows.append(("内容のハッシュ", "Content hash", verdict.content_hash))
    cells = "".join(
        f'<dt>{escape(ja_label)} <span class="en">{escape(en_label)}</span></dt><dd>{escape(value)}</dd>'
        for ja_label, en_label, value in rows
        if value
    )
    return (
        f'<div class="verdict {verdict.outcome.value}" data-outcome="{verdict.outcome.value}" '
        f'data-reason="{verdict.reason.value}"><h2>{escape(ja)} <span class="en">{escape(en)}</span></h2>'
        f'<p>{escape(verdict.words_ja)}</p><p class="en">{escape(verdict.words_en)}</p>'
        f"<dl>{cells}</dl></div>"
    )
