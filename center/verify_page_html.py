"""The verification page's HTML (証明書の確認ページ): Japanese and English on every page, the chosen
language first (``lang``: ``ja`` or ``en``), the other beside it marked with its own ``lang``.
Plain HTML and a little inline CSS, no script, no external resource: the pictures are ``data:``
URIs. Every value is escaped.

A result shows a page's content only when its code's signature verified (:attr:`Verdict.claims`):
the statement of what was proved, the uploaded picture beside the page as issued (stacked on a
narrow screen), and the content's lines as a definition list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from center.verify_pictures import Picture
from printing.verify import Outcome, Verdict

LANGUAGES = ("ja", "en")

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

#: The page's own words, Japanese and English.
WORDS: dict[str, tuple[str, str]] = {
    "title": ("証明書の確認", "Verify a printed certificate"),
    "upload": ("証明書の画像・PDFで確認", "With a photo, scan or PDF of the page"),
    "file": ("カメラで撮影する", "Take a photo with the camera"),
    "choose": ("または、ファイルを選ぶ", "Or choose a file"),
    "file_kinds": ("PNG・JPEG・TIFF・PDF", "PNG, JPEG, TIFF, PDF"),
    "typed": ("交付番号と検証コードで確認", "With the issue number and the code"),
    "issue_number": ("交付番号", "Issue number"),
    "code": ("検証コード", "Verification code"),
    "verify": ("確認する", "Verify"),
    "page": ("ページ", "Page"),
    "pages": ("ページ数", "Pages"),
    "municipality": ("市区町村", "Municipality"),
    "issued_on": ("交付日", "Issued on"),
    "content_hash": ("内容のハッシュ", "Content hash"),
    "yours": ("送信された画像", "The picture you sent"),
    "issued": ("交付された内容", "The page as issued"),
    "yours_alt": ("送信された用紙の画像", "the picture of the paper you sent"),
    "issued_alt": (
        "交付された頁を交付時の様式で描いた画像。記載事項は下の一覧のとおり",
        "the page as issued, drawn as it was printed; its content is listed below",
    ),
    "not_drawn": (
        "この頁は描けませんでした。下の記載事項と見比べてください。",
        "This page could not be drawn: compare the paper with the content listed below.",
    ),
    "no_picture": ("画像を表示できません。", "The picture cannot be shown."),
    "content": ("交付された記載事項", "What the page states, as issued"),
    "voided_content": (
        "取り消された写しの記載事項です。この用紙を有効な証明書として扱わないでください。",
        "This is the content of a voided copy: do not rely on this paper as a certificate.",
    ),
    "not_drawn_here": (
        "ページが多いため、この頁は画像を省略しています。",
        "Too many pages in one upload: this page is not drawn.",
    ),
    "other_language": ("English", "日本語"),
}

_NOT_RELIED = (Outcome.VOIDED, Outcome.NOT_PRINTED, Outcome.ALTERED, Outcome.UNKNOWN)

_STYLE = """
body{font-family:sans-serif;margin:0;background:#f4f4f0;color:#222;line-height:1.5}
main{max-width:64rem;margin:0 auto;padding:1rem 1.25rem 3rem}
h1{font-size:1.5rem;margin:.5rem 0}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
h3{font-size:1rem;margin:.4rem 0}
.second{color:#555;font-size:.9em}p.second{margin-top:-.6rem}
.language{text-align:right;margin:0}
form{background:#fff;border:1px solid #ccc;padding:1rem;border-radius:.4rem;max-width:40rem}
label{display:block;margin:.5rem 0}input{font:inherit;max-width:100%}
input[type=text]{width:100%;padding:.3rem}
button{font:inherit;padding:.5rem 1.4rem;margin-top:.6rem}
.verdict,.error{border-left:.5rem solid #888;background:#fff;padding:.6rem 1rem;margin:1rem 0}
.genuine{border-color:#2a7d2a}.altered,.voided,.not_printed{border-color:#b22}.error{border-color:#b60}
dl{margin:.5rem 0}dt{font-weight:bold;margin-top:.4rem}dd{margin:0 0 0 1rem;overflow-wrap:anywhere}
.statement{background:#eef4ee;padding:.5rem .8rem;border-radius:.3rem}
.warning{background:#fbeaea;padding:.5rem .8rem;border-radius:.3rem;font-weight:bold}
.compare{display:grid;grid-template-columns:1fr 1fr;grid-template-rows:auto auto;grid-auto-flow:column;
gap:.3rem 1rem;align-items:start}
.compare img{display:block;width:100%;height:auto;border:1px solid #999;background:#fff}
.compare .missing{border:1px dashed #999;padding:1rem;margin:0}
.content{columns:2 18rem}.content div{break-inside:avoid}
@media (max-width:40rem){.compare{grid-template-columns:1fr;grid-template-rows:none;grid-auto-flow:row}
.content{columns:1}main{padding:.5rem .8rem 2rem}}
.note{font-size:.9em;color:#444}
"""

_EXPLAINED: tuple[tuple[str, str], ...] = (
    ("この確認でわかること", "What this check tells"),
    (
        "QRコードに入っている記載事項が、交付元の市区町村の署名どおりであることを確かめ、"
        "交付されたとおりの頁を描いて、送信された画像の横に表示します。お手元の用紙の記載と見比べてください。"
        "印字された文字そのものを読み取って照合するものではありません。"
        "写しが取り消されていないこと、印刷されたことも確認します。",
        "It checks that the content in the page's code is signed by the issuing municipality, "
        "and draws the page as issued beside the picture you sent: compare it with the paper in "
        "your hand. It does not read the printed words itself. It also checks that the copy was "
        "printed and not voided.",
    ),
    (
        "表示される内容は、用紙をお持ちのあなたにだけ表示され、保存も記録もされません。",
        "The content is shown only to you, who hold the paper; it is neither stored nor logged.",
    ),
)


@dataclass(frozen=True)
class Result:
    """One page's verdict and, when its signature verified, what is shown of its content."""

    verdict: Verdict
    uploaded: Picture | None = None
    issued: Picture | None = None
    lines: Sequence[tuple[str, str]] = field(default=())
    drawn: bool = True  # False: over the upload's limit of pages drawn


def page(results: Sequence[Result] = (), error: str | None = None, lang: str = "ja") -> str:
    """The whole page in ``lang`` first: the result (if any) above the two forms."""
    say = _Say(lang)
    result = "".join(_result(r, say) for r in results)
    if error is not None:
        shown = say.paragraphs(ERRORS[error])
        result += f'<div class="error" data-error="{escape(error)}" role="alert">{shown}</div>'
    other = "en" if lang == "ja" else "ja"
    action = f"/verify?lang={lang}"  # the answer in the language of the form
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{say.plain('title')}</title><style>{_STYLE}</style></head><body><main>"
        f'<p class="language"><a href="/verify?lang={other}" lang="{other}" hreflang="{other}">'
        f"{escape(WORDS['other_language'][0 if lang == 'ja' else 1])}</a></p>"
        f"<h1>{say.both('title')}</h1>"
        f'<div id="result" aria-live="polite">{result}</div>'
        f"<h2>{say.both('upload')}</h2>"
        f'<form method="post" action="{action}" enctype="multipart/form-data">'
        f'<label for="page">{say.both("file")}</label>'
        '<input type="file" id="page" name="page" accept="image/*,application/pdf" capture="environment">'
        f'<label for="choose">{say.both("choose")} ({say.plain("file_kinds")})</label>'
        '<input type="file" id="choose" name="page" accept="image/*,application/pdf">'
        f'<button type="submit" id="upload">{say.plain("verify")}</button></form>'
        f"<h2>{say.both('typed')}</h2>"
        f'<form method="post" action="{action}">'
        f'<label>{say.both("issue_number")}<input type="text" id="issue_number" '
        'name="issue_number" maxlength="80" required autocomplete="off" '
        'placeholder="20261123/131016/T-0001/01/000042"></label>'
        f'<label>{say.both("code")}<input type="text" id="code" name="code" '
        'maxlength="64" required autocomplete="off" placeholder="7K3M-Q0ZD-X4AT"></label>'
        f'<button type="submit" id="typed">{say.plain("verify")}</button></form>'
        f'<section class="note"><h2>{say.pair(_EXPLAINED[0])}</h2>'
        f"{''.join(say.paragraphs(text) for text in _EXPLAINED[1:])}</section>"
        "</main></body></html>"
    )


class _Say:
    """Words in the chosen language first, the other marked as such."""

    def __init__(self, lang: str) -> None:
        self.first = 0 if lang == "ja" else 1
        self.other_lang = LANGUAGES[1 - self.first]

    def plain(self, key: str) -> str:
        return escape(WORDS[key][self.first])

    def both(self, key: str) -> str:
        return self.pair(WORDS[key])

    def pair(self, texts: tuple[str, str]) -> str:
        first, second = texts[self.first], texts[1 - self.first]
        return f'{escape(first)} <span class="second" lang="{self.other_lang}">{escape(second)}</span>'

    def paragraphs(self, texts: tuple[str, str], css: str = "") -> str:
        first, second = texts[self.first], texts[1 - self.first]
        extra = f" {css}" if css else ""
        return (
            f'<p class="first{extra}">{escape(first)}</p>'
            f'<p class="second{extra}" lang="{self.other_lang}">{escape(second)}</p>'
        )


def _result(result: Result, say: _Say) -> str:
    verdict = result.verdict
    outcome = verdict.outcome.value
    parts = [
        f"<h2>{say.pair(HEADINGS[verdict.outcome])}</h2>",
        say.paragraphs((verdict.words_ja, verdict.words_en)),
        f"<dl>{_facts(verdict, say)}</dl>",
    ]
    claims = verdict.claims
    if claims is not None:  # the signature verified: the content may be shown
        if verdict.outcome in _NOT_RELIED:
            parts.append(f'<div class="warning" role="note">{say.paragraphs(WORDS["voided_content"])}</div>')
        statement = (verdict.statement_ja or "", verdict.statement_en or "")
        parts.append(f'<div class="statement">{say.paragraphs(statement)}</div>')
        parts.append(_compare(result, say))
        lines = "".join(
            f"<div><dt>{escape(label)}</dt><dd>{escape(value)}</dd></div>" for label, value in result.lines
        )
        parts.append(f'<h3>{say.both("content")}</h3><dl class="content">{lines}</dl>')
    return (
        f'<section class="verdict {outcome}" data-outcome="{outcome}" '
        f'data-reason="{verdict.reason.value}">{"".join(parts)}</section>'
    )


def _facts(verdict: Verdict, say: _Say) -> str:
    rows: list[tuple[str, str | None]] = [("issue_number", verdict.issue_number)]
    if verdict.page is not None:
        rows.append(("page", f"{verdict.page} / {verdict.pages}"))
    elif verdict.pages is not None:
        rows.append(("pages", str(verdict.pages)))
    if verdict.municipality is not None:
        name = (
            f"{verdict.municipality_name} ({verdict.municipality})"
            if verdict.municipality_name
            else verdict.municipality
        )
        rows.append(("municipality", name))
    rows.append(("issued_on", verdict.issued_on))
    if verdict.outcome is Outcome.GENUINE:
        rows.append(("content_hash", verdict.content_hash))
    return "".join(f"<dt>{say.both(key)}</dt><dd>{escape(value)}</dd>" for key, value in rows if value)


def _compare(result: Result, say: _Say) -> str:
    """The uploaded picture and the page as issued, side by side (stacked on a narrow screen)."""
    page = result.verdict.page or 1
    if not result.drawn:
        return f'<p class="missing">{say.pair(WORDS["not_drawn_here"])}</p>'
    yours = (
        _image(result.uploaded, f"{say.plain('yours_alt')} ({page})", "uploaded")
        if result.uploaded is not None
        else f'<p class="missing">{say.pair(WORDS["no_picture"])}</p>'
    )
    issued = (
        _image(result.issued, f"{say.plain('issued_alt')} ({page})", "issued")
        if result.issued is not None
        else f'<p class="missing">{say.pair(WORDS["not_drawn"])}</p>'
    )
    return (
        f'<div class="compare"><h3>{say.both("yours")}</h3>{yours}<h3>{say.both("issued")}</h3>{issued}</div>'
    )


def _image(picture: Picture, alt: str, kind: str) -> str:
    return (
        f'<img class="{kind}" src="{escape(picture.uri)}" width="{picture.width}" '
        f'height="{picture.height}" alt="{escape(alt)}">'
    )
