/* MC146818A CMOS real-time clock + 128 bytes of battery-backed RAM at ports
 * 0x70 (index; bit 7 is the NMI mask and is ignored) and 0x71 (data).
 *
 * Time: the clock registers are computed on each read from now() + a guest
 * offset, in UTC. When the guest sets the time (B.SET=1, writes, B.SET=0)
 * the offset is recomputed; it survives rtc_reset(), like the NVRAM.
 *
 * UIP (A bit 7): the first read of register A after the clock's second
 * changed reports UIP=1, later reads in that second report 0. A guest waiting
 * for the UIP rising then falling edge thus finishes within ~1 s of real time
 * and a guest that samples UIP around a time read (Linux
 * mc146818_avoid_UIP) retries when a second boundary fell in between. (With
 * only a seconds-resolution clock a 244 us window cannot be modelled.)
 *
 * Interrupts (IRQ8, level = C.IRQF): update-ended (UIE) and alarm (AIE,
 * "don't care" alarm bytes >= 0xC0 honoured) flags are evaluated lazily at
 * each new second, on rtc_tick() (call it about once a second from the I/O
 * thread to get UIE/AIE interrupts) and when register C is read. The
 * periodic interrupt (PIE) is not implemented: PF never sets.
 *
 * Locking: one mutex; irq_set() is called with it held (non-blocking). */
#ifndef MYVMM_RTC_H
#define MYVMM_RTC_H
#include <stdint.h>
#include <time.h>
#include "devices/bus.h"
#include "devices/irq.h"
#include "snapshot/sbuf.h"

#define RTC_NR_PORTS  2
#define RTC_CMOS_SIZE 128
#define RTC_REG_CENTURY 0x32

struct rtc;

/* Creates the RTC. now(now_opaque) returns host UTC seconds; NULL means the
 * host wall clock. nvram (may be NULL: all zeros) is the saved battery RAM,
 * e.g. from rtc_get_nvram() of a previous instance; registers C and D and
 * B.SET are sanitized. irq is copied (may be NULL). Returns NULL on ENOMEM. */
struct rtc *rtc_create(const struct irq_line *irq, time_t (*now)(void *), void *now_opaque,
		       const uint8_t nvram[RTC_CMOS_SIZE]);
/* Frees the device (after removal from the bus). */
void rtc_destroy(struct rtc *r);
/* VM reset (the RESET pin): clears PIE/AIE/UIE/SQWE and the C flags, lowers
 * IRQ8. NVRAM contents and the guest time offset are kept. */
void rtc_reset(struct rtc *r);
/* Periodic poke from the I/O thread (about 1 Hz): latches the update-ended
 * and alarm flags for a new second and raises IRQ8 if enabled. */
void rtc_tick(struct rtc *r);
/* Copies the 128 CMOS bytes (NVRAM and stored registers) to out. */
void rtc_get_nvram(struct rtc *r, uint8_t out[RTC_CMOS_SIZE]);
/* Sets a CMOS byte directly (VMM-side firmware fields such as memory size,
 * before the guest runs). index is masked to 0..127. */
void rtc_set_cmos(struct rtc *r, uint8_t index, uint8_t value);

/* Bus ops; register at PORT_RTC, len RTC_NR_PORTS, opaque = struct rtc. */
extern const struct bus_ops rtc_bus_ops;
/* Snapshots: CMOS, index, clock offset and interrupt state (opaque: struct rtc *). */
extern const struct snap_dev_ops rtc_snap_ops;
#endif
