"""A neural command recognizer: openWakeWord's pretrained speech embedding plus a small trained head.

`features` turns audio into the head's input (shared by training and run time), `head` is the
numpy classifier, `backend` the `Recognizer`, `fused` the combination with pocketsphinx.
The shipped head is `head.npz` in this package; `scripts/train_command_head.py` regenerates it.
"""
