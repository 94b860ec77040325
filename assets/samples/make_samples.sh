#!/usr/bin/env sh
# Regenerates the demo media in this folder from FFmpeg's built-in (lavfi) sources only, so the
# samples are ours (CC0, see assets/ATTRIBUTION.md) and anyone can rebuild them:
#   sh assets/samples/make_samples.sh
#
# bouncing_ball.mp4: 4 s, 320x240, 25 fps, H.264 yuv420p + AAC 16 kHz mono, ~20 KB.
#   A red ball moves left to right and bounces on the floor once a second (t = 0, 1, 2, 3 s);
#   each bounce is an 880 Hz beep that decays in ~0.1 s, so sound and picture line up.
#   Ball centre: x = 40 + 60 t, y = 200 - 150 |sin(pi t)| (pixels; y grows downwards), radius 16.
set -eu
cd "$(dirname "$0")"

BALL='lte(pow(X-(40+60*T),2)+pow(Y-(200-150*abs(sin(PI*T))),2),256)'
FLOOR='gte(Y,216)'

ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "color=c=white:s=320x240:r=25:d=4,format=rgb24,geq=r='if(${BALL},220,if(${FLOOR},90,245))':g='if(${BALL},30,if(${FLOOR},90,245))':b='if(${BALL},30,if(${FLOOR},90,250))'" \
  -f lavfi -i "aevalsrc=0.6*sin(2*PI*880*t)*exp(-40*mod(t\,1)):s=16000:d=4" \
  -map 0:v -map 1:a \
  -c:v libx264 -preset medium -crf 28 -pix_fmt yuv420p -g 25 -threads 1 \
  -c:a aac -b:a 48k -ac 1 \
  -movflags +faststart -map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact \
  bouncing_ball.mp4
