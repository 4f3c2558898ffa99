/*
 * USB CCID readers and the PC/SC reader list: pure functions over
 * descriptors and names, so that the classic "reader plugged in but not
 * seen by pcscd" diagnosis is unit-tested without hardware.  The libusb
 * enumeration that fills cnie_usb_dev lives in usb_enum.c.
 */
#ifndef CNIE_TOOL_USB_MATCH_H
#define CNIE_TOOL_USB_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CNIE_USB_CLASS_CCID 0x0B     /* USB class "Smart Card" */
#define CNIE_USB_MAX_IFACES 32
#define CNIE_USB_MAX_STR 128	     /* bytes of a USB string kept (UTF-8/ASCII) */
#define CNIE_USB_PLIST_MAX (4u * 1024u * 1024u) /* Info.plist size cap */
#define CNIE_USB_PLIST_MAX_ENTRIES 8192

typedef struct cnie_usb_dev {
	uint16_t vid, pid;
	uint8_t bus, address;
	uint8_t device_class;		       /* bDeviceClass */
	uint8_t iface_class[CNIE_USB_MAX_IFACES]; /* bInterfaceClass of each interface */
	size_t n_ifaces;
	char manufacturer[CNIE_USB_MAX_STR];   /* iManufacturer ("" unknown) */
	char product[CNIE_USB_MAX_STR];	       /* iProduct ("" unknown) */
} cnie_usb_dev;

/* True when the device or one of its interfaces has class 0x0B (CCID). */
bool cnie_usb_is_ccid(const cnie_usb_dev *d);

/*
 * Walks a raw configuration descriptor (USB 2.0 9.6.3: the configuration
 * then interface/endpoint/class descriptors, each bLength bDescriptorType)
 * and collects the interface classes into d (at most CNIE_USB_MAX_IFACES).
 * Refuses a descriptor of length < 2, one that overruns the buffer or
 * wTotalLength, and an interface descriptor shorter than 9 bytes:
 * CNIE_ERR_ENCODING / CNIE_ERR_TRUNCATED.
 */
int cnie_usb_parse_config(const uint8_t *p, size_t n, cnie_usb_dev *d);

/* One device libccid knows (Info.plist ifdVendorID/ifdProductID/ifdFriendlyName). */
typedef struct cnie_usb_ccid_entry {
	uint16_t vid, pid;
	char name[CNIE_USB_MAX_STR];
} cnie_usb_ccid_entry;

typedef struct cnie_usb_ccid_list {
	cnie_usb_ccid_entry *e;
	size_t n;
} cnie_usb_ccid_list;

/*
 * Parses libccid's Info.plist text (n bytes, at most CNIE_USB_PLIST_MAX):
 * the three parallel <array>s after <key>ifdVendorID</key>,
 * <key>ifdProductID</key> and <key>ifdFriendlyName</key> (names optional).
 * IDs are "0xHHHH".  Arrays of different lengths, an ID that is not
 * 0x + 1..4 hex digits, more than CNIE_USB_PLIST_MAX_ENTRIES entries, an
 * unterminated element: CNIE_ERR_ENCODING (nothing returned).  Names are
 * truncated to CNIE_USB_MAX_STR - 1 bytes; XML entities &amp; &lt; &gt;
 * are decoded.  Caller frees with cnie_usb_ccid_list_free.
 */
int cnie_usb_ccid_list_parse(const char *text, size_t n, cnie_usb_ccid_list *out);
void cnie_usb_ccid_list_free(cnie_usb_ccid_list *l);
/* The entry for vid:pid, NULL if libccid does not list it. */
const cnie_usb_ccid_entry *cnie_usb_ccid_find(const cnie_usb_ccid_list *l, uint16_t vid,
    uint16_t pid);

/*
 * Index in readers[0..n) of the PC/SC reader that is this USB device, or
 * -1.  pcsc-lite names a libccid reader from the USB strings
 * ("<iManufacturer> <iProduct>", or iProduct alone when it already starts
 * with the manufacturer) or, without strings, from libccid's friendly
 * name (friendly may be NULL); an interface name may follow in brackets.
 * Comparison ignores case and repeated spaces; a name matches when it
 * equals the reader base or the base starts with it followed by " [" or
 * " (".  used[] (may be NULL) marks readers already given to a device,
 * so that two identical readers map to two PC/SC names.
 */
int cnie_usb_match_reader(const cnie_usb_dev *d, const char *friendly,
    const char *const *readers, size_t n, const bool *used);

/* ---- usb_enum.c: the system side (libusb, files) ----------------------- */

/*
 * USB devices with a CCID interface, through libusb (strings from the
 * device when it can be opened, else from sysfs).  *out owned by the
 * caller (free()).  CNIE_ERR_UNSUPPORTED when libusb cannot start (no
 * USB on this machine): the caller reports "not checked".
 */
int cnie_usb_list_ccid(cnie_usb_dev **out, size_t *n);

/*
 * Loads libccid's device list from CNIE_CCID_INFO_PLIST or
 * /usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist.
 * CNIE_ERR_NOT_FOUND when libccid is not installed.
 */
int cnie_usb_ccid_list_load(cnie_usb_ccid_list *l, const char **path);

#endif
