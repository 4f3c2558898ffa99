/*
 * libifd-cnie-sim: a pcsc-lite IFD handler (API v3, pcsc-lite
 * ifdhandler.h) whose readers hold reference cards (drivers/emu).
 *
 * pcscd loads it from reader.conf entries (LIBPATH this object,
 * DEVICENAME a reader directory holding reader.json; see ifd_reader.c).
 * It announces TAG_IFD_SIMULTANEOUS_ACCESS so that pcscd numbers the
 * readers 0..IFD_MAX_READERS-1 and passes Lun = number << 16
 * (readerfactory.c RFSetReaderName), and TAG_IFD_THREAD_SAFE so that each
 * reader gets its own pcscd mutex (a PIN entry on one reader does not stall
 * the others).
 *
 * Card movement is instant: pcscd's event thread sleeps in
 * ifd_poll_event() (TAG_IFD_POLLING_THREAD_WITH_TIMEOUT) until a control
 * command changes the card, instead of polling every 400 ms.
 *
 * Every entry point checks the Lun first and the caller's buffer sizes
 * before writing.  Logs go to pcscd's log when the driver runs inside
 * pcscd (log_msg), to stderr otherwise; no PIN and no APDU is logged.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <PCSC/pcsclite.h>
#pragma GCC visibility push(default)
#include <PCSC/ifdhandler.h>
#pragma GCC visibility pop
#include <PCSC/reader.h>

#include <cnie/buf.h>
#include <cnie/error.h>
#include <cnie/log.h>

#include "ifd.h"

static struct ifd_reader readers[IFD_MAX_READERS];
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

/* pcscd's logger (debuglog.h): void log_msg(const int priority, const char *fmt, ...). */
typedef void (*pcscd_log_fn)(const int, const char *, ...);
static pcscd_log_fn pcscd_log;

static void
log_to_pcscd(cnie_log_level level, const char *line, void *arg)
{
	/* debuglog.h: PCSC_LOG_DEBUG 0, INFO 1, ERROR 2, CRITICAL 3. */
	int prio = level <= CNIE_LOG_ERROR ? 2 : level <= CNIE_LOG_INFO ? 1 : 0;

	(void)arg;
	pcscd_log(prio, "cnie-sim: %s", line);
}

static void
init_all(void)
{
	unsigned i;
	void *sym;

	for (i = 0; i < IFD_MAX_READERS; i++) {
		if ((init_rc = ifd_reader_init(&readers[i], i)) != 0)
			return;
	}
	/* Inside pcscd, write to its log (its -d/--debug level applies). */
	if ((sym = dlsym(RTLD_DEFAULT, "log_msg")) != NULL) {
		memcpy(&pcscd_log, &sym, sizeof(pcscd_log));
		cnie_log_set_sink(log_to_pcscd, NULL);
	}
}

/*
 * The reader for Lun, NULL when Lun is not one this driver can hold:
 * pcscd's reader number in the high 16 bits, slot 0 in the low ones.
 */
static struct ifd_reader *
reader_at(DWORD Lun)
{
	DWORD idx = (Lun >> 16) & 0xFFFF;

	if ((Lun & 0xFFFF) != 0 || idx >= IFD_MAX_READERS)
		return NULL;
	if (pthread_once(&init_once, init_all) != 0 || init_rc != 0)
		return NULL;
	return &readers[idx];
}

/* Locks and returns the open reader for Lun, or NULL. */
static struct ifd_reader *
reader_lock(DWORD Lun)
{
	struct ifd_reader *r = reader_at(Lun);

	if (r == NULL)
		return NULL;
	pthread_mutex_lock(&r->lk);
	if (!r->open) {
		pthread_mutex_unlock(&r->lk);
		return NULL;
	}
	return r;
}

static RESPONSECODE
ifd_poll_event(DWORD Lun, int timeout_ms)
{
	struct ifd_reader *r;
	struct timespec dl;

	/*
	 * pcsc-lite eventhandler.c: called in a loop with the time until the
	 * power-off grace period ends (or a long idle timeout); returning
	 * IFD_SUCCESS makes it check IFDHICCPresence at once.  It returns
	 * when the card may have changed, at the timeout, or when
	 * ifd_stop_polling() asks it to.
	 */
	if ((r = reader_lock(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	if (timeout_ms < 0 || timeout_ms > 3600 * 1000)
		timeout_ms = 3600 * 1000;
	ifd_deadline(&dl, timeout_ms);
	while (r->open && !r->stop_poll && r->gen == r->seen_gen) {
		if (pthread_cond_timedwait(&r->cv, &r->lk, &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&r->lk);
	return IFD_SUCCESS;
}

static RESPONSECODE
ifd_stop_polling(DWORD Lun)
{
	struct ifd_reader *r;

	if ((r = reader_lock(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	r->stop_poll = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->lk);
	return IFD_SUCCESS;
}

RESPONSECODE
IFDHCreateChannelByName(DWORD Lun, LPSTR DeviceName)
{
	struct ifd_reader *r;
	RESPONSECODE ret = IFD_COMMUNICATION_ERROR;
	int rc;

	if ((r = reader_at(Lun)) == NULL || DeviceName == NULL)
		return IFD_COMMUNICATION_ERROR;
	pthread_mutex_lock(&r->lk);
	if (r->open) {
		/* Nothing of the open reader may be touched on this path. */
		cnie_log_error("reader %u: already open", r->idx);
		pthread_mutex_unlock(&r->lk);
		return IFD_COMMUNICATION_ERROR;
	}
	if ((r->scratch = malloc(CNIE_EMU_MAX_RESP)) == NULL)
		goto out;
	if ((rc = ifd_reader_configure(r, DeviceName)) != 0) {
		ret = IFD_NO_SUCH_DEVICE;
		goto out;
	}
	r->stop_poll = false;
	r->polled = false;
	r->gen = r->seen_gen = 0;
	r->apdus = 0;
	r->last_error[0] = '\0';
	/* A card that cannot be loaded leaves the reader empty, with the reason in `status`. */
	if (r->cfg_card[0] != '\0')
		(void)ifd_reader_insert(r, r->cfg_card, NULL);
	r->open = true;
	if ((rc = ifd_ctl_start(r)) != 0) {
		r->open = false;
		ifd_reader_clear(r);
		goto out;
	}
	cnie_log_info("reader %u: %s ready", r->idx, r->dir);
	ret = IFD_SUCCESS;
out:
	if (ret != IFD_SUCCESS) {
		free(r->scratch);
		r->scratch = NULL;
	}
	pthread_mutex_unlock(&r->lk);
	return ret;
}

RESPONSECODE
IFDHCreateChannel(DWORD Lun, DWORD Channel)
{
	/* Only reader.conf entries with a DEVICENAME (a reader directory) make sense. */
	(void)Lun;
	(void)Channel;
	return IFD_NO_SUCH_DEVICE;
}

RESPONSECODE
IFDHCloseChannel(DWORD Lun)
{
	struct ifd_reader *r;

	if ((r = reader_lock(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	/* Closed first, so that waits (PIN entry, reset) end and the control thread can finish. */
	r->open = false;
	r->stop_poll = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->lk);
	ifd_ctl_stop(r);
	pthread_mutex_lock(&r->lk);
	ifd_reader_clear(r);
	if (r->scratch != NULL)
		cnie_freezero(r->scratch, CNIE_EMU_MAX_RESP);
	r->scratch = NULL;
	pthread_mutex_unlock(&r->lk);
	return IFD_SUCCESS;
}

/* Copies n bytes of v into the caller's buffer after checking its size. */
static RESPONSECODE
put_value(PDWORD Length, PUCHAR Value, const void *v, size_t n)
{
	if (*Length < n)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	memcpy(Value, v, n);
	*Length = (DWORD)n;
	return IFD_SUCCESS;
}

RESPONSECODE
IFDHGetCapabilities(DWORD Lun, DWORD Tag, PDWORD Length, PUCHAR Value)
{
	struct ifd_reader *r;
	RESPONSECODE ret;
	uint8_t b;
	uint32_t u;
	RESPONSECODE (*poll_fn)(DWORD, int) = ifd_poll_event;
	RESPONSECODE (*stop_fn)(DWORD) = ifd_stop_polling;
	static const char vendor[] = "CNIE project";

	if (Length == NULL || Value == NULL)
		return IFD_COMMUNICATION_ERROR;
	if ((r = reader_lock(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	switch (Tag) {
	case TAG_IFD_ATR:
	case SCARD_ATTR_ATR_STRING:
		ret = put_value(Length, Value, r->atr, r->powered ? r->atr_len : 0);
		break;
	case TAG_IFD_SIMULTANEOUS_ACCESS:
		b = IFD_MAX_READERS;
		ret = put_value(Length, Value, &b, 1);
		break;
	case TAG_IFD_THREAD_SAFE:
		b = 1;
		ret = put_value(Length, Value, &b, 1);
		break;
	case TAG_IFD_SLOTS_NUMBER:
		b = 1;
		ret = put_value(Length, Value, &b, 1);
		break;
	case TAG_IFD_SLOT_THREAD_SAFE:
	case TAG_IFD_POLLING_THREAD_KILLABLE:
		/* Not killable: pcscd must stop the thread through ifd_stop_polling. */
		b = 0;
		ret = put_value(Length, Value, &b, 1);
		break;
	case TAG_IFD_POLLING_THREAD_WITH_TIMEOUT:
		ret = put_value(Length, Value, &poll_fn, sizeof(poll_fn));
		break;
	case TAG_IFD_STOP_POLLING_THREAD:
		ret = put_value(Length, Value, &stop_fn, sizeof(stop_fn));
		break;
	case SCARD_ATTR_MAXINPUT:
		/* Host-order integer, as the CCID driver answers. */
		u = IFD_MAX_COMMAND;
		ret = put_value(Length, Value, &u, sizeof(u));
		break;
	case SCARD_ATTR_VENDOR_NAME:
		ret = put_value(Length, Value, vendor, sizeof(vendor));
		break;
	default:
		ret = IFD_ERROR_TAG;
		break;
	}
	pthread_mutex_unlock(&r->lk);
	return ret;
}

RESPONSECODE
IFDHSetCapabilities(DWORD Lun, DWORD Tag, DWORD Length, PUCHAR Value)
{
	struct ifd_reader *r;

	(void)Tag;
	(void)Length;
	(void)Value;
	if ((r = reader_lock(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	pthread_mutex_unlock(&r->lk);
	return IFD_ERROR_TAG;
}

RESPONSECODE
IFDHSetProtocolParameters(DWORD Lun, DWORD Protocol, UCHAR Flags, UCHAR PTS1, UCHAR PTS2,
    UCHAR PTS3)
{
	struct ifd_reader *r;
	RESPONSECODE ret;

	(void)Flags;
	(void)PTS1;
	(void)PTS2;
	(void)PTS3;
	if ((r = reader_lock(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	/* APDUs go to the emulator whole: T=0 and T=1 behave the same here. */
	if (r->emu == NULL)
		ret = IFD_ICC_NOT_PRESENT;
	else if (Protocol == SCARD_PROTOCOL_T0 || Protocol == SCARD_PROTOCOL_T1)
		ret = IFD_SUCCESS;
	else
		ret = IFD_PROTOCOL_NOT_SUPPORTED;
	pthread_mutex_unlock(&r->lk);
	return ret;
}

RESPONSECODE
IFDHPowerICC(DWORD Lun, DWORD Action, PUCHAR Atr, PDWORD AtrLength)
{
	struct ifd_reader *r;
	RESPONSECODE ret;
	uint8_t atr[IFD_ATR_MAX];
	size_t atr_len = sizeof(atr);
	int rc;

	if ((r = reader_lock(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	if (AtrLength != NULL && Action != IFD_POWER_DOWN)
		*AtrLength = 0;
	/*
	 * Power off, power on and reset all end the card's secure messaging
	 * session, so the reader's PACE channel too (ifd_pace.c).
	 */
	ifd_pace_end(r);
	switch (Action) {
	case IFD_POWER_DOWN:
		if (r->emu != NULL && r->powered)
			cnie_emu_power_off(r->emu);
		r->powered = false;
		r->atr_len = 0;
		ret = IFD_SUCCESS;
		break;
	case IFD_POWER_UP:
	case IFD_RESET:
		if (r->emu == NULL) {
			ret = IFD_ICC_NOT_PRESENT;
			break;
		}
		if (Atr == NULL || AtrLength == NULL) {
			ret = IFD_COMMUNICATION_ERROR;
			break;
		}
		if (r->powered)
			cnie_emu_power_off(r->emu);
		r->powered = false;
		r->atr_len = 0;
		rc = cnie_emu_power_on(r->emu,
		    r->type == IFD_TYPE_CONTACTLESS || r->type == IFD_TYPE_PACE ?
		    CNIE_EMU_CONTACTLESS : CNIE_EMU_CONTACT, atr,
		    &atr_len);
		if (rc != 0 || atr_len == 0 || atr_len > sizeof(atr)) {
			snprintf(r->last_error, sizeof(r->last_error), "power on: %s",
			    cnie_strerror(rc != 0 ? rc : CNIE_ERR_BAD_RESPONSE));
			ret = IFD_ERROR_POWER_ACTION;
			break;
		}
		/* pcscd passes MAX_ATR_SIZE; checked anyway. */
		if (atr_len > MAX_ATR_SIZE) {
			ret = IFD_ERROR_POWER_ACTION;
			break;
		}
		memcpy(r->atr, atr, atr_len);
		r->atr_len = atr_len;
		r->powered = true;
		memcpy(Atr, atr, atr_len);
		*AtrLength = (DWORD)atr_len;
		ret = IFD_SUCCESS;
		break;
	default:
		ret = IFD_NOT_SUPPORTED;
		break;
	}
	pthread_mutex_unlock(&r->lk);
	return ret;
}

static RESPONSECODE
transmit_ret(int rc)
{
	switch (rc) {
	case 0:
		return IFD_SUCCESS;
	case CNIE_ERR_NO_CARD:
		return IFD_ICC_NOT_PRESENT;
	case CNIE_ERR_BUFFER_TOO_SMALL:
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	default:
		return IFD_COMMUNICATION_ERROR;
	}
}

RESPONSECODE
IFDHTransmitToICC(DWORD Lun, SCARD_IO_HEADER SendPci, PUCHAR TxBuffer, DWORD TxLength,
    PUCHAR RxBuffer, PDWORD RxLength, PSCARD_IO_HEADER RecvPci)
{
	struct ifd_reader *r;
	size_t len;
	int rc;

	if (RxLength == NULL)
		return IFD_COMMUNICATION_ERROR;
	len = *RxLength;
	*RxLength = 0;
	if ((r = reader_lock(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	/* Through the reader's PACE channel when one is up (type "pace"), else plain. */
	rc = ifd_pace_transmit(r, TxBuffer, TxLength, 0, RxBuffer, &len);
	if (rc == 0) {
		*RxLength = (DWORD)len;
		if (RecvPci != NULL) {
			RecvPci->Protocol = SendPci.Protocol;
			RecvPci->Length = sizeof(*RecvPci);
		}
	}
	pthread_mutex_unlock(&r->lk);
	return transmit_ret(rc);
}

/* PC/SC part 10 2.2: TLV list of (feature, 4, control code big-endian). */
static RESPONSECODE
get_features(struct ifd_reader *r, PUCHAR RxBuffer, DWORD RxLength, LPDWORD returned)
{
	static const struct {
		uint8_t tag;
		uint32_t code;
	} feats[] = {
		{ FEATURE_VERIFY_PIN_DIRECT, IFD_IOCTL_VERIFY_PIN_DIRECT },
		{ FEATURE_MODIFY_PIN_DIRECT, IFD_IOCTL_MODIFY_PIN_DIRECT },
		/* PC/SC part 10 amendment 1: the PACE reader only. */
		{ FEATURE_EXECUTE_PACE, IFD_IOCTL_EXECUTE_PACE },
	};
	size_t i, n = 0, count;

	if (r->type == IFD_TYPE_PINPAD)
		count = 2;
	else if (r->type == IFD_TYPE_PACE)
		count = 3;
	else
		return IFD_SUCCESS; /* no feature: an empty list */
	if (RxBuffer == NULL || RxLength < 6 * count)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	for (i = 0; i < count; i++) {
		RxBuffer[n++] = feats[i].tag;
		RxBuffer[n++] = 4;
		RxBuffer[n++] = (uint8_t)(feats[i].code >> 24);
		RxBuffer[n++] = (uint8_t)(feats[i].code >> 16);
		RxBuffer[n++] = (uint8_t)(feats[i].code >> 8);
		RxBuffer[n++] = (uint8_t)feats[i].code;
	}
	*returned = (DWORD)n;
	return IFD_SUCCESS;
}

/* Status words a PIN pad answers itself (PC/SC part 10 2.5.2, CCID 6.2.6). */
#define SW_PINPAD_TIMEOUT 0x6400
#define SW_PINPAD_CANCEL 0x6401
#define SW_PINPAD_MISMATCH 0x6402
#define SW_PINPAD_LENGTH 0x6403

static RESPONSECODE
put_sw(uint16_t sw, PUCHAR RxBuffer, DWORD RxLength, LPDWORD returned)
{
	if (RxBuffer == NULL || RxLength < 2)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	RxBuffer[0] = (uint8_t)(sw >> 8);
	RxBuffer[1] = (uint8_t)sw;
	*returned = 2;
	return IFD_SUCCESS;
}

/* The PIN pad: entries from the key queue, formatted into the template, sent to the card. */
static RESPONSECODE
pin_entry(struct ifd_reader *r, bool modify, LPCVOID TxBuffer, DWORD TxLength,
    PUCHAR RxBuffer, DWORD RxLength, LPDWORD returned)
{
	struct ifd_pin_req req;
	struct ifd_key k_old, k_new, k_conf;
	uint8_t apdu[4 + 1 + 255 + 1];
	size_t apdu_len = 0, resp_len;
	unsigned timeout;
	bool want_old, want_conf;
	uint16_t sw = 0;
	RESPONSECODE ret;
	int rc;

	memset(&k_old, 0, sizeof(k_old));
	memset(&k_new, 0, sizeof(k_new));
	memset(&k_conf, 0, sizeof(k_conf));
	if (r->type != IFD_TYPE_PINPAD && r->type != IFD_TYPE_PACE)
		return IFD_ERROR_NOT_SUPPORTED;
	if ((rc = ifd_pin_parse(TxBuffer, TxLength, modify, &req)) != 0) {
		cnie_log_warn("reader %u: malformed PIN %s structure: %s", r->idx,
		    modify ? "modify" : "verify", cnie_strerror(rc));
		return IFD_COMMUNICATION_ERROR;
	}
	if (RxBuffer == NULL || RxLength < 2)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	if (r->emu == NULL)
		return IFD_ICC_NOT_PRESENT;
	timeout = req.timeout != 0 ? req.timeout : IFD_PIN_DEFAULT_TIMEOUT;
	want_old = modify && (req.confirm & IFD_PIN_CONFIRM_CURRENT) != 0;
	want_conf = modify && (req.confirm & IFD_PIN_CONFIRM_NEW) != 0;

	/* The user types: current PIN, new PIN, new PIN again (CCID 6.1.11.8). */
	rc = 0;
	if (want_old)
		rc = ifd_reader_take_key(r, timeout, &k_old);
	if (rc == 0)
		rc = ifd_reader_take_key(r, timeout, &k_new);
	if (rc == 0 && want_conf)
		rc = ifd_reader_take_key(r, timeout, &k_conf);
	switch (rc) {
	case 0:
		break;
	case CNIE_ERR_TIMEOUT:
		sw = SW_PINPAD_TIMEOUT;
		break;
	case CNIE_ERR_CANCELLED:
		sw = SW_PINPAD_CANCEL;
		break;
	default:
		ret = IFD_ICC_NOT_PRESENT;
		goto out;
	}
	if (sw == 0 && want_conf &&
	    (k_conf.len != k_new.len || cnie_memeq_ct(k_conf.digits, k_new.digits, k_new.len) != 0))
		sw = SW_PINPAD_MISMATCH;
	if (sw == 0) {
		rc = ifd_pin_build(&req, k_old.digits, k_old.len, k_new.digits, k_new.len, apdu,
		    sizeof(apdu), &apdu_len);
		if (rc == CNIE_ERR_PIN_FORMAT) {
			sw = SW_PINPAD_LENGTH;
		} else if (rc != 0) {
			cnie_log_warn("reader %u: PIN structure does not fit its template: %s",
			    r->idx, cnie_strerror(rc));
			ret = IFD_COMMUNICATION_ERROR;
			goto out;
		}
	}
	if (sw != 0) {
		ret = put_sw(sw, RxBuffer, RxLength, returned);
		goto out;
	}
	resp_len = RxLength;
	/*
	 * The PACE reader sends the command inside its secure messaging when a
	 * channel is up (ifd_pace.c): a plain VERIFY would be refused under
	 * PACE, and the PIN would cross the air in clear.  Body masked in any
	 * trace.
	 */
	rc = ifd_pace_transmit(r, apdu, apdu_len, CNIE_TRACE_MASK_BODY, RxBuffer, &resp_len);
	if (rc == 0)
		*returned = (DWORD)resp_len;
	ret = transmit_ret(rc);
out:
	cnie_wipe(&k_old, sizeof(k_old));
	cnie_wipe(&k_new, sizeof(k_new));
	cnie_wipe(&k_conf, sizeof(k_conf));
	cnie_wipe(apdu, sizeof(apdu));
	return ret;
}

/* PC/SC part 10 amendment 1 FEATURE_EXECUTE_PACE (ifd_pace.c). */
static RESPONSECODE
execute_pace(struct ifd_reader *r, LPCVOID TxBuffer, DWORD TxLength, PUCHAR RxBuffer,
    DWORD RxLength, LPDWORD returned)
{
	size_t len = 0;
	int rc;

	if (r->type != IFD_TYPE_PACE)
		return IFD_ERROR_NOT_SUPPORTED;
	if (RxBuffer == NULL)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	rc = ifd_pace_control(r, (const uint8_t *)TxBuffer, TxLength, RxBuffer, RxLength, &len);
	if (rc == CNIE_ERR_BUFFER_TOO_SMALL)
		return IFD_ERROR_INSUFFICIENT_BUFFER;
	if (rc != 0)
		return IFD_COMMUNICATION_ERROR;
	*returned = (DWORD)len;
	return IFD_SUCCESS;
}

RESPONSECODE
IFDHControl(DWORD Lun, DWORD dwControlCode, PUCHAR TxBuffer, DWORD TxLength, PUCHAR RxBuffer,
    DWORD RxLength, LPDWORD pdwBytesReturned)
{
	struct ifd_reader *r;
	RESPONSECODE ret;

	if (pdwBytesReturned == NULL)
		return IFD_COMMUNICATION_ERROR;
	*pdwBytesReturned = 0;
	if (TxBuffer == NULL && TxLength != 0)
		return IFD_COMMUNICATION_ERROR;
	if ((r = reader_lock(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	switch (dwControlCode) {
	case CM_IOCTL_GET_FEATURE_REQUEST:
		ret = get_features(r, RxBuffer, RxLength, pdwBytesReturned);
		break;
	case IFD_IOCTL_VERIFY_PIN_DIRECT:
		ret = pin_entry(r, false, TxBuffer, TxLength, RxBuffer, RxLength, pdwBytesReturned);
		break;
	case IFD_IOCTL_MODIFY_PIN_DIRECT:
		ret = pin_entry(r, true, TxBuffer, TxLength, RxBuffer, RxLength, pdwBytesReturned);
		break;
	case IFD_IOCTL_EXECUTE_PACE:
		ret = execute_pace(r, TxBuffer, TxLength, RxBuffer, RxLength, pdwBytesReturned);
		break;
	default:
		ret = IFD_ERROR_NOT_SUPPORTED;
		break;
	}
	pthread_mutex_unlock(&r->lk);
	return ret;
}

RESPONSECODE
IFDHICCPresence(DWORD Lun)
{
	struct ifd_reader *r;
	RESPONSECODE ret;

	if ((r = reader_lock(Lun)) == NULL)
		return IFD_COMMUNICATION_ERROR;
	ret = r->emu != NULL ? IFD_ICC_PRESENT : IFD_ICC_NOT_PRESENT;
	/* What pcscd now knows; a pending reset waits for this. */
	r->polled = true;
	r->seen_gen = r->gen;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->lk);
	return ret;
}
