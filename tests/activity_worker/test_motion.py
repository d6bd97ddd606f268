"""The motion score (activity_worker/motion.py) on sequences ffmpeg makes: quiet on noise,
JPEG artefacts, slow light and exposure changes; sees a moving object of 1 % of the frame;
marks a scene change once; sensitivity and ignore zones behave as documented."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from PIL import Image

from activity_worker.motion import (
    GRID, SENSITIVITY, STILL_FRAMES, WARMUP_FRAMES, MotionModel, MotionResult, MotionSettings,
    UndecodableFrame, Zone, grid_size, small_grey)
from tests.support.activity_frames import (
    SIZE, Box, across, brighter, jpeg, jpegs, lamp_lit, scene_frames, score_all)

BOX = (32, 24)  # 768 pixels: 1 % of 320x240


@cache
def still(count: int) -> tuple[Image.Image, ...]:
    return tuple(scene_frames(count))


@cache
def crossing(count: int = 120) -> tuple[Image.Image, ...]:
    """A 1 % box moving through the scene in every frame."""
    return tuple(scene_frames(count, boxes=[across(*BOX)]))


def after_warmup(results: list[MotionResult]) -> list[MotionResult]:
    assert all(r.warming_up and r.score == 0 and not r.moving for r in results[:WARMUP_FRAMES])
    return results[WARMUP_FRAMES:]


def moving_share(results: list[MotionResult]) -> float:
    return sum(r.moving for r in results) / len(results)


def test_a_still_scene_with_sensor_noise_at_every_jpeg_quality_never_moves() -> None:
    """600 frames, each encoded at another quality from 50 to 95 (the artefacts change from
    frame to frame, as a camera with a bitrate limit makes them)."""
    qualities = [50 + (i * 7) % 46 for i in range(600)]
    frames = [jpeg(image, quality) for image, quality in zip(still(600), qualities)]
    results = after_warmup(score_all(MotionModel(), frames))
    assert not any(r.moving or r.scene_change for r in results)
    assert max(r.score for r in results) < SENSITIVITY[5].area_percent / 4


@pytest.mark.parametrize("quality", [50, 95])
def test_a_still_scene_at_one_quality_never_moves(quality: int) -> None:
    results = after_warmup(score_all(MotionModel(), jpegs(still(200), quality)))
    assert not any(r.moving or r.scene_change for r in results)


def test_an_object_of_one_percent_of_the_frame_is_found_in_the_frames_it_moves_in() -> None:
    results = after_warmup(score_all(MotionModel(), jpegs(crossing(), quality=70)))
    assert moving_share(results) >= 0.95
    assert not any(r.scene_change for r in results)
    assert np.median([r.score for r in results]) == pytest.approx(1.0, abs=0.5)


def test_the_object_is_found_whatever_the_resolution() -> None:
    """The analysis grid is the same size for every resolution: a 1 % object at 1280x720
    is found as at 320x240."""
    size = (1280, 720)
    frames = scene_frames(40, size, boxes=[across(128, 72, size, speed=24)])
    results = after_warmup(score_all(MotionModel(), jpegs(frames)))
    assert moving_share(results) >= 0.95


def test_a_brightness_ramp_of_30_percent_over_a_minute_does_not_move() -> None:
    """60 frames at 1 frame per second, the light rising steadily to 130 %, then falling
    back to 70 % (dusk) over the next minute."""
    images = still(WARMUP_FRAMES + 120)
    factors = [1.0] * WARMUP_FRAMES + [1 + 0.3 * i / 60 for i in range(61)] + [1.3 - 0.6 * i / 59 for i in range(59)]
    results = after_warmup(score_all(MotionModel(), [jpeg(brighter(im, f)) for im, f in zip(images, factors)]))
    assert not any(r.moving or r.scene_change for r in results)


def test_auto_exposure_steps_do_not_move() -> None:
    """The camera's exposure jumps by up to 25 % between frames, back and forth, around a
    level that keeps the scene's colours unclipped (the scene's bars are fully saturated
    colours: one channel clipping changes their grey in a way no exposure gain matches)."""
    steps = [1.0, 1.0, 1.25, 1.25, 0.85, 1.0, 0.8, 1.15]
    images = still(160)
    results = after_warmup(score_all(MotionModel(), [jpeg(brighter(im, 0.75 * steps[i // 10 % len(steps)]))
                                                      for i, im in enumerate(images)]))
    assert not any(r.moving or r.scene_change for r in results)


def test_exposure_change_while_an_object_moves_still_finds_it() -> None:
    images = crossing()
    frames = [jpeg(brighter(im, 1.0 + 0.2 * ((i // 15) % 2))) for i, im in enumerate(images)]
    assert moving_share(after_warmup(score_all(MotionModel(), frames))) >= 0.95


def test_lights_switched_on_are_one_scene_change_then_a_warm_up_and_quiet() -> None:
    images = still(100)
    frames = [jpeg(brighter(im, 0.35) if i < 40 else lamp_lit(im)) for i, im in enumerate(images)]
    results = score_all(MotionModel(), frames)
    assert [i for i, r in enumerate(results) if r.scene_change] == [40]
    assert all(r.warming_up for r in results[41:40 + WARMUP_FRAMES])
    assert not any(r.moving for r in results)


def test_lights_that_flicker_on_over_several_frames_mark_at_most_one_scene_change() -> None:
    """A fluorescent tube: on, off, on, off, then on for good. The flicker falls in the
    warm-up that the first switch starts, whose median is the lit room."""
    images = still(80)
    lit = [False] * 40 + [True, False, True, False] + [True] * 36
    frames = [jpeg(lamp_lit(im) if on else brighter(im, 0.35)) for im, on in zip(images, lit)]
    results = score_all(MotionModel(), frames)
    assert [i for i, r in enumerate(results) if r.scene_change] == [40]
    assert not any(r.moving for r in results)


def test_a_moved_camera_is_a_scene_change_not_motion() -> None:
    images = still(60)
    frames = [jpeg(im if i < 30 else im.transform(SIZE, Image.Transform.AFFINE, (1, 0, 40, 0, 1, 25)))
              for i, im in enumerate(images)]
    results = after_warmup(score_all(MotionModel(), frames))
    assert [i for i, r in enumerate(results, WARMUP_FRAMES) if r.scene_change] == [30]
    assert not any(r.moving for r in results)


def test_an_object_that_stops_becomes_background_within_about_sixty_frames() -> None:
    """A car drives in and parks (it stops at frame 25): motion while it drives, then no
    more once the background has taken it in."""
    parking = Box(*BOX, x="min(n*6,150)", y="100")
    results = score_all(MotionModel(), jpegs(scene_frames(140, boxes=[parking])))
    moving = [i for i, r in enumerate(results) if r.moving]
    assert moving[0] == WARMUP_FRAMES and all(results[i].moving for i in range(WARMUP_FRAMES, 26))
    assert 26 + STILL_FRAMES < moving[-1] < 26 + 60
    assert not any(r.moving for r in results[26 + 60:])


def test_a_higher_sensitivity_never_finds_less() -> None:
    """Frame by frame, over noise, a faint object and a strong one: the moving frames of
    each sensitivity include those of every lower one, and its scores are at least theirs."""
    images = scene_frames(80, boxes=[across(16, 12, color="0x909090", speed=3)])
    frames = jpegs(images, quality=60) + jpegs(crossing(60), quality=60)
    runs = {s: score_all(MotionModel(MotionSettings(sensitivity=s)), frames) for s in SENSITIVITY}
    for lower, higher in zip(range(1, 10), range(2, 11)):
        for low, high in zip(runs[lower], runs[higher]):
            assert high.score >= low.score
            assert high.moving or not low.moving
    assert sum(r.moving for r in runs[10]) > sum(r.moving for r in runs[1])


def test_sensitivity_thresholds_fall_as_sensitivity_rises() -> None:
    for lower, higher in zip(range(1, 10), range(2, 11)):
        low, high = SENSITIVITY[lower], SENSITIVITY[higher]
        assert high.sigmas < low.sigmas and high.contrast < low.contrast and high.area_percent < low.area_percent


def test_an_ignore_zone_hides_motion_inside_it_and_nothing_else() -> None:
    """A box moves in the left third; another in the right third. Ignoring the left third
    hides the first box and not the second."""
    width, height = SIZE
    left_box = across(*BOX, left=0, right=width // 3, top=40, speed=3)
    right_box = across(*BOX, left=2 * width // 3, right=width, top=150, speed=3)
    zone = Zone(0.0, 0.0, 1 / 3 + 0.05, 1.0)
    ignore_left = MotionSettings(ignore_zones=(zone,))
    left_only = jpegs(scene_frames(60, boxes=[left_box]))
    assert moving_share(after_warmup(score_all(MotionModel(), left_only))) >= 0.95
    assert not any(r.moving for r in score_all(MotionModel(ignore_left), left_only))
    both = jpegs(scene_frames(60, boxes=[left_box, right_box]))
    assert moving_share(after_warmup(score_all(MotionModel(ignore_left), both))) >= 0.95
    right_only = jpegs(scene_frames(60, boxes=[right_box]))
    hidden = [r.score for r in after_warmup(score_all(MotionModel(ignore_left), both))]
    alone = [r.score for r in after_warmup(score_all(MotionModel(ignore_left), right_only))]
    assert np.allclose(hidden, alone, atol=0.15)


def test_ignore_zones_apply_from_the_next_frame_without_a_new_warm_up() -> None:
    frames = jpegs(crossing(40))
    model = MotionModel()
    assert moving_share(after_warmup(score_all(model, frames[:20]))) == 1.0
    model.settings = MotionSettings(ignore_zones=(Zone(0, 0, 1, 1),))
    assert [r for r in score_all(model, frames[20:])] == [MotionResult(score=0.0, moving=False)] * 20


def test_a_new_frame_shape_starts_a_new_warm_up() -> None:
    model = MotionModel()
    score_all(model, jpegs(still(20)))
    wide = scene_frames(WARMUP_FRAMES + 10, (320, 180))
    results = score_all(model, jpegs(wide))
    assert results[0].scene_change and not results[0].moving
    assert all(r.warming_up for r in results[1:WARMUP_FRAMES])
    assert not any(r.moving or r.scene_change for r in results[WARMUP_FRAMES:])


def test_a_model_restarted_in_the_middle_of_motion_warms_up_before_it_scores() -> None:
    frames = jpegs(crossing(40))
    restarted = MotionModel()
    results = score_all(restarted, frames[20:])
    assert [r.warming_up for r in results[:WARMUP_FRAMES]] == [True] * WARMUP_FRAMES
    assert not any(r.moving for r in results[:WARMUP_FRAMES])
    assert moving_share(results[WARMUP_FRAMES:]) >= 0.95


def test_the_frame_is_decoded_small_on_the_analysis_grid() -> None:
    assert grid_size(1920, 1080) == (GRID, 90) and grid_size(480, 640) == (120, GRID)
    image = still(1)[0].resize((1920, 1080))
    grey = small_grey(jpeg(image))
    assert grey.shape == (90, GRID) and grey.dtype == np.float32
    expected = np.asarray(image.convert("L").resize((GRID, 90), Image.Resampling.BOX), dtype=np.float32)
    assert np.abs(grey - expected).mean() < 3


@pytest.mark.parametrize("data", [b"", b"not a jpeg", jpeg(Image.new("RGB", (64, 48)))[:200]])
def test_an_undecodable_frame_raises_and_leaves_the_model_as_it_was(data: bytes) -> None:
    model = MotionModel()
    with pytest.raises(UndecodableFrame):
        model.score(data)
    assert model.warming_up


@pytest.mark.parametrize("bad", [dict(sensitivity=0), dict(sensitivity=11), dict(sensitivity=5.5)])
def test_settings_refuse_a_sensitivity_outside_1_to_10(bad: dict) -> None:
    with pytest.raises(ValueError):
        MotionSettings(**bad)


@pytest.mark.parametrize("bad", [(0.5, 0, 0.4, 1), (0, 0, 1.2, 1), (-0.1, 0, 0.5, 0.5), (0, 0.5, 1, 0.5)])
def test_zones_must_be_rectangles_inside_the_frame(bad: tuple[float, ...]) -> None:
    with pytest.raises(ValueError):
        Zone(*bad)
