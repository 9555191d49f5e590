"""The models that judge the copy-evident background (地紋) without a person's eye
(:mod:`support.vision`): a reader at reading distance, and a copier's scan-and-threshold.

They are shown able to fail and to pass on patterns whose answer is known. Big dots on a field
of little dots with the same ink share hide the word's *tone* but not its *texture*: the eye
model sees the word in the background koufu first printed (5-unit dots on a 1.7 mm grid) and
still, more faintly, in a finer one (3-unit dots on a 0.76 mm grid), as a person does when
looking at the page whole; the copier model shows it in both. A page of even small dots hides
everything from the eye and shows nothing on a copy. The background printed now (dots and
crosses of the same ink on a 0.68 mm grid) is hidden from the eye and shown by the copier, at
300 and 600 dpi."""

from __future__ import annotations

import pytest

from printing.render.background import background
from support.vision import (
    EYE_TOLERANCE,
    TEXTURE_TOLERANCE,
    big_dot_little_dot,
    by_copier,
    by_eye,
    even_dots,
)

DPIS = (300, 600)
FIRST = (20, 4, 5)  # cell, little dots' pitch, big dot's side: the background koufu first printed
FINER = (9, 3, 3)


@pytest.mark.parametrize("dpi", DPIS)
def test_the_eye_model_sees_big_dots_among_little_ones_by_their_texture_not_their_tone(dpi: int) -> None:
    for cell, pitch, dot in (FIRST, FINER):
        seen = by_eye(big_dot_little_dot(dpi, cell, pitch, dot), dpi, cell)
        assert abs(seen.mean_inside - seen.mean_outside) < EYE_TOLERANCE  # the same ink share
        assert seen.spread_inside - seen.spread_outside > TEXTURE_TOLERANCE  # coarser dots: a texture
        assert not seen.hidden
        copied = by_copier(big_dot_little_dot(dpi, cell, pitch, dot), dpi, cell)
        assert copied.ink_outside < 0.005 and copied.shown  # the little dots drop out, the big ones stay


@pytest.mark.parametrize("dpi", DPIS)
def test_the_background_hides_its_word_from_the_eye(dpi: int) -> None:
    seen = by_eye(background(dpi), dpi)
    assert abs(seen.mean_inside - seen.mean_outside) < EYE_TOLERANCE / 5
    assert abs(seen.spread_inside - seen.spread_outside) < TEXTURE_TOLERANCE / 2
    assert seen.hidden


@pytest.mark.parametrize("dpi", DPIS)
def test_the_background_shows_its_word_on_a_copy(dpi: int) -> None:
    copied = by_copier(background(dpi), dpi)
    assert copied.ink_outside < 0.001  # every cross drops out
    assert copied.ink_inside > 0.08 and copied.shown  # every dot keeps a black core


@pytest.mark.parametrize("dpi", DPIS)
def test_an_even_field_hides_from_the_eye_and_shows_nothing_on_a_copy(dpi: int) -> None:
    field = even_dots(dpi)
    assert by_eye(field, dpi).hidden
    assert not by_copier(field, dpi).shown
