"""A small corpus: no false read reported, and at least raw zxing-cpp's reads.

The camera scanner's false-read test runs on fixed seeds that once produced a false read
(``KNOWN_SEEDS``), so they can never come back unnoticed, and on a fresh seed every run.
The seed is in the test's id and in every failure; ``BACKROOM_CORPUS_SEED=<seed>`` replays
it. Many seeds at once: ``python -m benchmarks.scan_sweep``; the large corpus with the
read-rate table is ``make bench-scan``.
"""

import os
import random

import pytest

from devices.camera import Confirmer
from devices.corpus import DEGRADATIONS, generate_clips, generate_corpus, judge, judge_clip
from devices.decoders import DecoderConfig, make_decoder

SEED = int(os.environ.get("BACKROOM_CORPUS_SEED") or random.SystemRandom().randrange(1, 10**6))
# Seeds whose clips once made the camera scanner report a code that was not there:
# 26278 blur-001-EAN-13, a blurred 2673809024010 read as 0674006024010 in two frames;
# 113 small-000-GS1-128, two rows of one small GS1-128 read as two texts, one a valid wrong one.
KNOWN_SEEDS = (26278, 113)


@pytest.fixture(scope="module")
def camera():
    return make_decoder(DecoderConfig(center_zoom=True))  # as the camera screen has it


@pytest.mark.parametrize("seed", [*KNOWN_SEEDS, SEED], ids=lambda seed: f"seed={seed}")
def test_the_camera_scanner_reports_no_code_that_is_not_in_the_picture(camera, seed):
    clips = generate_clips(seed=seed, per_class=3)
    reported, wrong = 0, []
    for clip in clips:
        read, false = judge_clip(camera, clip)
        reported += read
        wrong += [clip.name] * false
    assert wrong == [], f"seed {seed} (BACKROOM_CORPUS_SEED={seed} replays it)"
    assert reported >= 0.6 * len(clips), f"seed {seed}: {reported} of {len(clips)} clips read"


def test_frame_by_frame_it_reads_every_clean_frame_and_no_fewer_than_raw_zxing(camera):
    raw = make_decoder(DecoderConfig(raw=True))
    ours, theirs, missed_clean = 0, 0, []
    for item in generate_corpus(DEGRADATIONS, seed=SEED, per_class=4):
        read = judge(camera.decode(item.image), item)[0]
        ours, theirs = ours + read, theirs + judge(raw.decode(item.image), item)[0]
        if item.degradation == "clean" and not read:
            missed_clean.append(item.name)
    assert missed_clean == [], f"seed {SEED}"
    assert ours >= theirs, f"seed {SEED}: {ours} frames read, raw zxing-cpp {theirs}"


def test_a_scanner_that_trusts_single_frames_is_what_the_confirmation_protects_against(camera):
    # Not a claim about any seed: the same clips through a trusting scanner are read at
    # least as often, so the confirmation costs reads only where a frame stood alone.
    # Rotated clips of a fresh seed may all be unreadable (a DataMatrix at a steep angle),
    # so the only read rate claimed is the clean clips': every one is confirmed.
    clips = generate_clips(["clean", "rotation"], seed=SEED + 1, per_class=3)
    confirmed = [judge_clip(camera, clip)[0] for clip in clips]
    trusting = sum(judge_clip(camera, clip, Confirmer(needed=1))[0] for clip in clips)
    assert trusting >= sum(confirmed), f"seed {SEED}"
    missed_clean = [clip.name for clip, read in zip(clips, confirmed) if clip.degradation == "clean" and not read]
    assert missed_clean == [], f"seed {SEED}"
