"""The models that judge the copy-evident background (地紋) without a person's eye
(:mod:`support.vision`): a reader at reading distance, and a copier's scan-and-threshold.

They are shown able to fail and to pass on patterns whose answer is known: today's background
(large latent dots on a field of small dots, equal ink share) hides the word's *tone* but not its
*texture*, so the eye model sees the word, as a person does when looking at the page whole; the
copier model shows it. A page of even small dots hides everything from the eye and shows nothing
on a copy. A background that passes both is the next step (issue 18)."""

from __future__ import annotations

import pytest

from printing.render.background import background
from support.vision import EYE_TOLERANCE, by_copier, by_eye, even_dots

DPIS = (300, 600)


@pytest.mark.parametrize("dpi", DPIS)
def test_the_eye_model_sees_today_s_word_by_its_texture_not_its_tone(dpi: int) -> None:
    seen = by_eye(background(dpi), dpi)
    assert abs(seen.mean_inside - seen.mean_outside) < EYE_TOLERANCE / 5  # the same ink share
    assert seen.spread_inside - seen.spread_outside > 5 * EYE_TOLERANCE  # coarse dots: a texture
    assert not seen.hidden


@pytest.mark.parametrize("dpi", DPIS)
def test_the_copier_model_shows_today_s_word(dpi: int) -> None:
    copied = by_copier(background(dpi), dpi)
    assert copied.ink_outside < 0.005 and copied.shown  # the small dots drop out, the large ones stay


@pytest.mark.parametrize("dpi", DPIS)
def test_an_even_field_hides_from_the_eye_and_shows_nothing_on_a_copy(dpi: int) -> None:
    field = even_dots(dpi)
    assert by_eye(field, dpi).hidden
    assert not by_copier(field, dpi).shown
