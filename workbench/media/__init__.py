"""Media I/O: probing, decoding audio and video frames, and writing audio and MP4 files.

Everything here reads files through PyAV (FFmpeg) or soundfile and raises `workbench.errors.MediaError`
subclasses naming the file and the problem. Times are seconds on the file's timeline.
"""

from workbench.media.audio import Audio, load_audio, stream_audio
from workbench.media.probe import MediaInfo, MediaLimits, StreamInfo, probe, spool
from workbench.media.sampling import Sampling
from workbench.media.video import Clip, Frames, read_clip, read_frames
from workbench.media.write import write_audio, write_video

__all__ = [
    "Audio", "Clip", "Frames", "MediaInfo", "MediaLimits", "Sampling", "StreamInfo",
    "load_audio", "probe", "read_clip", "read_frames", "spool", "stream_audio", "write_audio", "write_video",
]
