/* Port I/O and CPU helpers. */
#ifndef TK_X86_H
#define TK_X86_H
#include <stdint.h>

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outw(uint16_t p, uint16_t v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint16_t inw(uint16_t p) { uint16_t v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline uint32_t inl(uint16_t p) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }

/* Physical address (< 4 GiB, identity mapped or paging off) to pointer. */
static inline void *phys(uint64_t pa) { return (void *)(uintptr_t)pa; }
static inline uint32_t mmio_read32(uint32_t pa) { return *(volatile uint32_t *)(uintptr_t)pa; }
static inline void mmio_write32(uint32_t pa, uint32_t v) { *(volatile uint32_t *)(uintptr_t)pa = v; }
static inline uint8_t mmio_read8(uint32_t pa) { return *(volatile uint8_t *)(uintptr_t)pa; }
static inline uint16_t mmio_read16(uint32_t pa) { return *(volatile uint16_t *)(uintptr_t)pa; }
static inline void mmio_write8(uint32_t pa, uint8_t v) { *(volatile uint8_t *)(uintptr_t)pa = v; }
static inline void mmio_write16(uint32_t pa, uint16_t v) { *(volatile uint16_t *)(uintptr_t)pa = v; }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
#endif
