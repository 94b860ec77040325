"""The AV Workbench benchmark suite: `python -m benchmarks [--quick] [--json]`.

It makes its own test media (a 720p and a 360p H.264/AAC MP4, a 16 kHz WAV and a 44.1 kHz stereo MP3)
in a cache folder, then times our media, feature and model code against the tools people would
otherwise use (the ffmpeg CLI, PyAV, OpenCV, TorchCodec, soundfile, librosa). Contenders run
round-robin (A, B, C, A, B, C, ...) so that load on the machine hits them alike; each figure is the
median of the runs, and every ratio is our speed over the other's speed in the same run (> 1: ours
is faster). Modules: media (test media), timing (round-robin timer), video, audio, features, models
(the sections), report (table, JSON, goals, machine).
"""
