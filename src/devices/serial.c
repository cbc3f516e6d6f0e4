/* 16550A UART. Register map and bit meanings from the NS16550A / TI
 * PC16550D datasheet; see serial.h for the threading contract. */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "devices/serial.h"
#include "snapshot/format.h"

/* Register offsets (DLAB = 0 unless noted). */
enum {
	UART_RBR = 0, /* read: receive buffer; write: THR; DLAB: DLL */
	UART_IER = 1, /* DLAB: DLM */
	UART_IIR = 2, /* read: IIR; write: FCR */
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define IER_ERBFI 0x01 /* received data available */
#define IER_ETBEI 0x02 /* THR empty */
#define IER_ELSI  0x04 /* receiver line status */
#define IER_EDSSI 0x08 /* modem status */

#define IIR_NO_INT 0x01
#define IIR_MSI    0x00
#define IIR_THRI   0x02
#define IIR_RDI    0x04
#define IIR_RLSI   0x06
#define IIR_CTI    0x0c /* character timeout (FIFO mode) */
#define IIR_FIFO   0xc0

#define FCR_ENABLE   0x01
#define FCR_CLR_RX   0x02
#define FCR_CLR_TX   0x04
#define FCR_TRIG_SHIFT 6

#define LCR_DLAB 0x80

#define MCR_DTR  0x01
#define MCR_RTS  0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MCR_MASK 0x1f

#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_PE   0x04
#define LSR_FE   0x08
#define LSR_BI   0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERR_BITS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS  0x10
#define MSR_DSR  0x20
#define MSR_RI   0x40
#define MSR_DCD  0x80
#define MSR_DELTAS 0x0f

struct serial {
	pthread_mutex_t lock;
	struct irq_line irq;
	struct char_sink out;
	bool has_irq, has_out;
	void (*rx_ready)(void *);
	void *rx_opaque;

	uint8_t ier, lcr, mcr, msr, scr, dll, dlm, fcr;
	uint8_t lsr_err;        /* sticky error bits (OE), cleared by LSR read */
	bool thr_ipending;      /* THRE interrupt latched */
	int irq_level;          /* last level given to irq_set */

	uint8_t rx[SERIAL_FIFO_SIZE];
	unsigned rx_head, rx_count;
};

static const uint8_t rx_trigger[4] = { 1, 4, 8, 14 };

static bool fifo_on(const struct serial *s)
{
	return s->fcr & FCR_ENABLE;
}

static unsigned rx_capacity(const struct serial *s)
{
	return fifo_on(s) ? SERIAL_FIFO_SIZE : 1;
}

/* Interrupt identification by priority (16550D table "Interrupt Control
 * Functions"): line status > data available / timeout > THRE > modem. */
static uint8_t compute_iir(const struct serial *s)
{
	uint8_t iir = IIR_NO_INT;

	if ((s->ier & IER_ELSI) && (s->lsr_err & LSR_ERR_BITS)) {
		iir = IIR_RLSI;
	} else if ((s->ier & IER_ERBFI) && s->rx_count) {
		/* Below the trigger level the real chip reports a character
		 * timeout after 4 character times; we report it at once so a
		 * guest never stalls on a partly filled FIFO. */
		if (fifo_on(s) && s->rx_count < rx_trigger[s->fcr >> FCR_TRIG_SHIFT])
			iir = IIR_CTI;
		else
			iir = IIR_RDI;
	} else if ((s->ier & IER_ETBEI) && s->thr_ipending) {
		iir = IIR_THRI;
	} else if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTAS)) {
		iir = IIR_MSI;
	}
	if (fifo_on(s))
		iir |= IIR_FIFO;
	return iir;
}

/* Called with the lock held; irq_set is non-blocking. */
static void update_irq(struct serial *s)
{
	int level = !(compute_iir(s) & IIR_NO_INT) && (s->mcr & MCR_OUT2);

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->has_irq)
			irq_set(&s->irq, level);
	}
}

/* Modem status inputs: in loopback the MCR outputs drive them (DTR->DSR,
 * RTS->CTS, OUT1->RI, OUT2->DCD); otherwise the "cable" asserts CTS, DSR and
 * DCD permanently. Sets the delta bits for any change. */
static void update_msr(struct serial *s)
{
	uint8_t in, old = s->msr & 0xf0, delta = 0;

	if (s->mcr & MCR_LOOP) {
		in = 0;
		if (s->mcr & MCR_DTR)
			in |= MSR_DSR;
		if (s->mcr & MCR_RTS)
			in |= MSR_CTS;
		if (s->mcr & MCR_OUT1)
			in |= MSR_RI;
		if (s->mcr & MCR_OUT2)
			in |= MSR_DCD;
	} else {
		in = MSR_CTS | MSR_DSR | MSR_DCD;
	}
	if ((in ^ old) & MSR_CTS)
		delta |= MSR_DCTS;
	if ((in ^ old) & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(in & MSR_RI))
		delta |= MSR_TERI; /* trailing edge only */
	if ((in ^ old) & MSR_DCD)
		delta |= MSR_DDCD;
	s->msr = in | (s->msr & MSR_DELTAS) | delta;
}

static void rx_clear(struct serial *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

/* Appends one byte to the receiver; false (and OE set) if it is full. */
static bool rx_put(struct serial *s, uint8_t b)
{
	if (s->rx_count >= rx_capacity(s)) {
		s->lsr_err |= LSR_OE;
		return false;
	}
	s->rx[(s->rx_head + s->rx_count) % SERIAL_FIFO_SIZE] = b;
	s->rx_count++;
	return true;
}

static void reset_locked(struct serial *s)
{
	s->ier = 0;
	s->lcr = 0;
	s->mcr = 0;
	s->scr = 0;
	s->fcr = 0;
	s->dll = 0x0c; /* 9600 baud, what firmware leaves behind */
	s->dlm = 0;
	s->lsr_err = 0;
	s->thr_ipending = false;
	s->msr = MSR_CTS | MSR_DSR | MSR_DCD;
	rx_clear(s);
	update_irq(s);
}

/* One byte read at off (0..7). *notify set when the RX FIFO became empty. */
static uint8_t reg_read(struct serial *s, unsigned off, bool *notify)
{
	uint8_t v = 0xff, iir;

	switch (off) {
	case UART_RBR:
		if (s->lcr & LCR_DLAB)
			return s->dll;
		if (!s->rx_count)
			return 0; /* nothing received: the stale register */
		v = s->rx[s->rx_head];
		s->rx_head = (s->rx_head + 1) % SERIAL_FIFO_SIZE;
		if (--s->rx_count == 0)
			*notify = true;
		break;
	case UART_IER:
		return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
	case UART_IIR:
		iir = compute_iir(s);
		/* Reading IIR while it reports THRE clears that source. */
		if ((iir & 0x0f) == IIR_THRI)
			s->thr_ipending = false;
		v = iir;
		break;
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = s->lsr_err | LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0);
		s->lsr_err = 0;
		break;
	case UART_MSR:
		v = s->msr;
		s->msr &= ~MSR_DELTAS;
		break;
	case UART_SCR:
		return s->scr;
	default:
		return 0xff;
	}
	update_irq(s);
	return v;
}

/* One byte written at off (0..7). *notify set when RX space appeared. */
static void reg_write(struct serial *s, unsigned off, uint8_t v, bool *notify)
{
	uint8_t old;

	switch (off) {
	case UART_RBR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
			return;
		}
		/* Writing THR clears a THRE interrupt; the byte leaves at once
		 * (sink or loopback), so THR is empty again: raise it anew. The
		 * level drops first so an edge-triggered PIC sees a new edge. */
		s->thr_ipending = false;
		update_irq(s);
		if (s->mcr & MCR_LOOP)
			rx_put(s, v);
		else if (s->has_out)
			s->out.write(s->out.opaque, &v, 1);
		s->thr_ipending = true;
		break;
	case UART_IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
			return;
		}
		old = s->ier;
		s->ier = v & 0x0f;
		/* Enabling ETBEI while THR is empty (always) raises THRE. */
		if ((s->ier & IER_ETBEI) && !(old & IER_ETBEI))
			s->thr_ipending = true;
		else if (!(s->ier & IER_ETBEI))
			s->thr_ipending = false;
		break;
	case UART_IIR: /* FCR */
		old = s->fcr;
		if ((v ^ old) & FCR_ENABLE) {
			/* Changing the FIFO mode resets both FIFOs. */
			rx_clear(s);
			*notify = true;
		}
		if (!(v & FCR_ENABLE)) {
			s->fcr = 0; /* other bits need FIFO enable (16550D) */
			break;
		}
		if (v & FCR_CLR_RX) {
			rx_clear(s);
			*notify = true;
		}
		/* FCR_CLR_TX: the TX side is always empty. */
		s->fcr = v & (FCR_ENABLE | 0xc0);
		break;
	case UART_LCR:
		s->lcr = v;
		return;
	case UART_MCR:
		s->mcr = v & MCR_MASK;
		update_msr(s);
		break;
	case UART_SCR:
		s->scr = v;
		return;
	default: /* LSR and MSR writes (factory test) are ignored */
		return;
	}
	update_irq(s);
}

static void serial_read(void *opaque, uint64_t off, void *data, uint32_t len)
{
	struct serial *s = opaque;
	uint8_t *p = data;
	bool notify = false;

	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < len && i < 8; i++)
		p[i] = (off < SERIAL_NR_PORTS && i < SERIAL_NR_PORTS - off) ?
			reg_read(s, (unsigned)(off + i), &notify) : 0xff;
	pthread_mutex_unlock(&s->lock);
	if (notify && s->rx_ready)
		s->rx_ready(s->rx_opaque);
}

static void serial_write(void *opaque, uint64_t off, const void *data, uint32_t len)
{
	struct serial *s = opaque;
	const uint8_t *p = data;
	bool notify = false;

	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < len && i < 8; i++)
		if (off < SERIAL_NR_PORTS && i < SERIAL_NR_PORTS - off)
			reg_write(s, (unsigned)(off + i), p[i], &notify);
	pthread_mutex_unlock(&s->lock);
	if (notify && s->rx_ready)
		s->rx_ready(s->rx_opaque);
}

const struct bus_ops serial_bus_ops = {
	.read = serial_read,
	.write = serial_write,
};

struct serial *serial_create(const struct irq_line *irq, const struct char_sink *out,
			     void (*rx_ready)(void *), void *rx_opaque)
{
	struct serial *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	if (pthread_mutex_init(&s->lock, NULL)) {
		free(s);
		return NULL;
	}
	if (irq) {
		s->irq = *irq;
		s->has_irq = true;
	}
	if (out && out->write) {
		s->out = *out;
		s->has_out = true;
	}
	s->rx_ready = rx_ready;
	s->rx_opaque = rx_opaque;
	s->irq_level = 0;
	reset_locked(s);
	return s;
}

void serial_destroy(struct serial *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void serial_reset(struct serial *s)
{
	pthread_mutex_lock(&s->lock);
	reset_locked(s);
	pthread_mutex_unlock(&s->lock);
	if (s->rx_ready)
		s->rx_ready(s->rx_opaque);
}

size_t serial_rx_push(struct serial *s, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	while (n < len && s->rx_count < rx_capacity(s))
		rx_put(s, buf[n++]);
	if (n)
		update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return n;
}

size_t serial_rx_space(struct serial *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = rx_capacity(s) - s->rx_count;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* ---- snapshot (snapshot/sbuf.h) ---- */

static int serial_save(void *dev, struct sbuf *out)
{
	struct serial *s = dev;

	pthread_mutex_lock(&s->lock);
	const uint8_t regs[] = { s->ier, s->lcr, s->mcr, s->msr, s->scr, s->dll, s->dlm, s->fcr,
				 s->lsr_err, s->thr_ipending, (uint8_t)s->irq_level };
	sb_bytes(out, regs, sizeof(regs));
	sb_u8(out, (uint8_t)s->rx_count);
	for (unsigned i = 0; i < s->rx_count; i++)
		sb_u8(out, s->rx[(s->rx_head + i) % SERIAL_FIFO_SIZE]);
	pthread_mutex_unlock(&s->lock);
	return out->err;
}

/* The interrupt line's level is in the restored irqchip; irq_level only
 * keeps the device's view of it in step (no irq_set here). */
static int serial_load(void *dev, struct srd *in)
{
	struct serial *s = dev;
	uint8_t regs[11], n;

	srd_bytes(in, regs, sizeof(regs));
	n = srd_u8(in);
	if (n > SERIAL_FIFO_SIZE)
		srd_reject(in);
	pthread_mutex_lock(&s->lock);
	s->rx_head = 0;
	s->rx_count = in->bad ? 0 : n;
	srd_bytes(in, s->rx, s->rx_count);
	if (!srd_end(in)) {
		s->ier = regs[0] & 0x0f;
		s->lcr = regs[1];
		s->mcr = regs[2] & MCR_MASK;
		s->msr = regs[3];
		s->scr = regs[4];
		s->dll = regs[5];
		s->dlm = regs[6];
		s->fcr = regs[7];
		s->lsr_err = regs[8];
		s->thr_ipending = regs[9] != 0;
		s->irq_level = regs[10] != 0;
		if (s->rx_count > rx_capacity(s))
			s->rx_count = rx_capacity(s);
	} else {
		s->rx_count = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return srd_end(in);
}

const struct snap_dev_ops serial_snap_ops = {
	.name = "serial", .tag = SNAP_TAG('u', 'a', 'r', 't'), .version = 1,
	.save = serial_save, .load = serial_load,
};
