"""Humanise speed on CPU (2 threads) for a 5-minute piece, and training throughput (issue: model).

    .venv/bin/python bench/bench_humanise.py [--checkpoint models/stylenet.pt] [--busy]

``--busy`` also times the model on the piece while another process keeps every core busy taking training steps
of StyleNet on torch's OpenMP threads: with the app's window threads, and once in a fresh
process the way it ran before, one OpenMP team for the whole batch (see ``models.inference.cpu_workers``).
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from common import DATA, ROOT, timeit

from app import DEMO_SONG
from app.core.encoding import encode
from app.core.humanise import humanise_mask, stylised_velocities
from app.core.midi_document import MidiDocument
from models.inference import StyleNetPredictor
from models.losses import masked_loss
from models.stylenet import DEFAULT_CHECKPOINT, LoadedModel, StyleNet, StyleNetConfig, predict


def five_minute_piece() -> tuple[str, bytes]:
    best = None
    for path in sorted((DATA / "classical").rglob("*.mid"))[:400]:
        if path.name == "midi_score.mid":
            continue
        doc = MidiDocument.load(path)
        seconds = float(doc.seconds(np.array([doc.end_tick]))[0])
        if best is None or abs(seconds - 300) < abs(best[0] - 300):
            best = (seconds, path)
    assert best is not None
    return f"{best[1].relative_to(DATA)} ({best[0]:.0f} s)", best[1].read_bytes()


def predictor(checkpoint: str) -> StyleNetPredictor:
    try:
        return StyleNetPredictor.from_checkpoint(checkpoint, "cpu")
    except Exception:
        print("(no checkpoint: timing an untrained paper-size model)")
        model = StyleNet(StyleNetConfig()).eval()
        return StyleNetPredictor(LoadedModel(model, torch.device("cpu"), model.cfg.styles))


def end_to_end(data: bytes, pred: StyleNetPredictor) -> None:
    d = MidiDocument.from_bytes(data)
    m = humanise_mask(d.notes, d.piano_mask)
    d.notes = d.notes.with_velocities(stylised_velocities(d.notes, d.ticks_per_beat, m, pred, "classical"))
    buf = io.BytesIO()
    d.to_midifile().save(file=buf)


LOAD = """import torch
from models.stylenet import StyleNet, StyleNetConfig
torch.set_num_threads({threads})
model, x = StyleNet(StyleNetConfig()), torch.rand(4, 200, 176).round()
opt = torch.optim.Adam(model.parameters(), 1e-3)
while True:  # training steps, as models.train takes them
    model(x, "classical").mean().backward()
    opt.step()
    opt.zero_grad()
"""

# the way the app ran before: a fresh process, torch on its OpenMP threads, the windows on the calling thread
ONE_TEAM = """import sys, time, torch
torch.set_num_threads({threads})
from models.stylenet import load_checkpoint, predict
import numpy as np
loaded = load_checkpoint({checkpoint!r}, "cpu")
inputs = np.load(sys.argv[1])
t0 = time.perf_counter()
predict(loaded.model, inputs, "classical", loaded.inference)
print(time.perf_counter() - t0)
"""


def busy(inputs: np.ndarray, pred: StyleNetPredictor, checkpoint: str) -> None:
    """Model time while another process trains on every core: the window threads, then (in a fresh
    process, as the app ran before) one OpenMP team."""
    threads = pred.workers
    load = subprocess.Popen([sys.executable, "-c", LOAD.format(threads=threads)], cwd=ROOT)
    try:
        time.sleep(3)  # the load's threads are up and spinning
        shared_s, shared_min = timeit(lambda: predict(pred.loaded.model, inputs, "classical", pred.loaded.inference,
                                                      workers=threads), repeat=3)
        print(f"  model time with another process running torch on {threads} threads: {threads} window threads, "
              f"median {shared_s * 1000:.0f} ms (min {shared_min * 1000:.0f})")
        with tempfile.TemporaryDirectory() as folder:
            np.save(Path(folder) / "inputs.npy", inputs)
            code = ONE_TEAM.format(threads=threads, checkpoint=checkpoint)
            try:
                out = subprocess.run([sys.executable, "-c", code, str(Path(folder) / "inputs.npy")], cwd=ROOT,
                                     capture_output=True, text=True, timeout=300, check=True)
                said = f"{float(out.stdout):.1f} s"
            except subprocess.TimeoutExpired:
                said = "over 300 s"
        print(f"  the same, one OpenMP team of {threads} threads in a fresh process (as before): {said}, first run")
    finally:
        load.kill()


def training_step_seconds(model: StyleNet) -> float:
    """Median seconds of one Adam step of ``model`` on a batch of 4 random 200-step windows."""
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x, y, m = torch.rand(4, 200, 176).round(), torch.rand(4, 200, 88), torch.rand(4, 200, 88) > 0.9

    def step() -> None:
        loss = masked_loss(model(x, "classical"), y, m, "onset")
        opt.zero_grad()
        loss.backward()
        opt.step()

    return timeit(step, repeat=10)[0]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT))
    p.add_argument("--busy", action="store_true", help="also time it with every core busy in another process")
    args = p.parse_args()
    torch.set_num_threads(2)
    name, data = five_minute_piece()
    pred = predictor(args.checkpoint)
    doc = MidiDocument.from_bytes(data)
    mask = humanise_mask(doc.notes, doc.piano_mask)
    enc = encode(doc.notes, doc.ticks_per_beat, mask)
    print(f"piece: {name}, {int(mask.sum())} notes, {enc.steps} steps; {pred.workers} window threads")
    model_s, _ = timeit(lambda: predict(pred.loaded.model, enc.inputs, "classical", pred.loaded.inference,
                                        workers=pred.workers))

    e2e_s, e2e_min = timeit(lambda: end_to_end(data, pred))
    print(f"  model (windows shared out to the threads): median {model_s * 1000:.0f} ms")
    print(f"  end to end load->encode->infer->decode->save: median {e2e_s * 1000:.0f} ms (min {e2e_min * 1000:.0f})"
          f"  target < 500 ms")
    demo = DEMO_SONG.read_bytes()  # shorter than one inference window: runs as one window of its own length
    short = MidiDocument.from_bytes(demo)
    steps = encode(short.notes, short.ticks_per_beat, humanise_mask(short.notes, short.piano_mask)).steps
    short_s, _ = timeit(lambda: end_to_end(demo, pred))
    print(f"  the demo song ({steps} steps), end to end: median {short_s * 1000:.0f} ms")
    if args.busy:
        busy(enc.inputs, pred, args.checkpoint)

    torch.set_num_threads(2)  # training runs on its own threads (models.train --threads)
    for fold in (1, 2):  # --fold 2: the LSTMs run over pairs of steps
        per_step = training_step_seconds(StyleNet(StyleNetConfig(fold=fold)))
        print(f"training on CPU, --fold {fold}: {1 / per_step:.1f} steps/s = {4 / per_step:.1f} windows/s "
              "(batch 4 x 200 steps)")


if __name__ == "__main__":
    main()
