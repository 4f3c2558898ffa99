# shellcheck shell=bash
# cnie-tool: libusb (USB CCID devices), libassuan (pinentry), libjpeg,
# OpenJPEG and libpng (photo to PNG); at run time a pinentry, libccid's
# Info.plist (readers libccid knows) and NSS tools (doctor's NSS checks).
CNIE_BUILD_PACKAGES+=(libusb-1.0-0-dev libassuan-dev libjpeg62-turbo-dev libopenjp2-7-dev
  libpng-dev libjansson-dev)
CNIE_RUNTIME_PACKAGES+=(pinentry-curses libccid libnss3-tools python3)
