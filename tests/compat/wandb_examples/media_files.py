# Not a W&B example: our own script logging wandb.Video, wandb.Audio, wandb.Html and
# wandb.Object3D (a mesh file, numpy point clouds, a lidar scene), wandb.Molecule, and images with boxes and
# masks, alone and in lists, with captions, at several steps. The files are made here: a one-frame GIF and a
# WAV file written with the stdlib (raw audio samples would need soundfile in the real wandb's
# venv; tests/compat/test_wandb_real_plots.py compares those).
import struct
import wave

import numpy as np
import wandb

GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\x00\x00\x00\x00\x00!\xf9\x04\x00\x00\x00\x00"
       b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
with open("red.gif", "wb") as fh:
    fh.write(GIF)
with wave.open("tone.wav", "wb") as out:
    out.setnchannels(1)
    out.setsampwidth(2)
    out.setframerate(8000)
    out.writeframes(struct.pack("<8h", 0, 900, 1800, 900, 0, -900, -1800, -900))
with open("tri.obj", "w") as fh:
    fh.write("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
with open("water.pdb", "w") as fh:
    fh.write("HETATM    1  O   HOH A   1       0.000   0.000   0.000  1.00  0.00           O\nEND\n")
cloud = np.array([[0.5, 1.0, -2.25], [3.0, 4.0, 5.0], [0.1, 0.2, 0.3]])

run = wandb.init(project="media-files", config={"kind": "media"})
for step in range(2):
    wandb.log({"loss": 1.0 / (step + 1),
               "clip": wandb.Video("red.gif", caption=f"clip {step}"),
               "tone": wandb.Audio("tone.wav", caption="tone", sample_rate=8000),
               "page": wandb.Html(f"<html><body><p>step {step}</p></body></html>"),
               "cloud": wandb.Object3D(cloud * (step + 1), caption=f"cloud {step}")})
wandb.log({"clips": [wandb.Video("red.gif", caption="a"), wandb.Video("red.gif", caption="b")],
           "pages": [wandb.Html("<p>one</p>", inject=False), wandb.Html("<p>two</p>")],
           "mesh": wandb.Object3D("tri.obj"), "water": wandb.Molecule("water.pdb", caption="w"),
           "clouds": [wandb.Object3D(np.hstack([cloud, np.ones((3, 1))])),
                      wandb.Object3D.from_point_cloud(points=cloud, boxes=[])]}, step=5)
box = {"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2, "maxY": 0.6}, "class_id": 1,
       "box_caption": "car", "scores": {"acc": 0.5}}
centred = {"position": {"middle": [1.5, 1.0], "width": 2, "height": 1}, "domain": "pixel",
           "class_id": 2}
seg = np.array([[0, 1, 2], [2, 1, 0]], dtype=np.uint8)
wandb.log({"frame": wandb.Image(np.zeros((2, 3)), caption="f", masks={"seg": {"mask_data": seg}},
                                boxes={"pred": {"box_data": [box], "class_labels": {1: "car"}},
                                       "truth": {"box_data": [centred]}}),
           "frames": [wandb.Image(np.full((2, 3, 3), [0.5, 1.0, 200.7])),
                      wandb.Image(np.zeros((2, 3)), classes=[{"id": 4, "name": "sky"}],
                                  masks={"seg": {"mask_data": seg * 2},
                                         "truth": {"mask_data": seg, "class_labels": {0: "bg"}}})]},
          step=6)
wandb.finish()
