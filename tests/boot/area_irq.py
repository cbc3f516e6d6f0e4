"""Interrupt delivery from virtio devices: MSI-X and INTx."""

from framework import check, check_pass, make_image, sectors_sum, boot_test, MiB


def irq_read_check(r, scen, dev, data):
    """The request a tk=msix|intx scenario completed: rng bytes or sector 0."""
    if dev == "blk":
        want = "TK: %s blk read 0 1 status 0 sum %08x" % (scen, sectors_sum(data, 0, 1))
        check(r.has(want), "expected %r" % want, r)
    else:
        m = r.grep(r"TK: %s rng 64 ([0-9a-f]{128})$" % scen)
        check(m and len(set(m[0].group(1)[i:i + 2] for i in range(0, 128, 2))) > 1,
              "no 'TK: %s rng 64 <random hex>' line" % scen, r)


@boot_test(60)
def test_msix(ctx):
    """MSI-X through KVM GSI routes + irqfds: queue vector, masking/PBA, config vector."""
    img, data = make_image(ctx, "msix.img", 1 * MiB)
    for dev, extra in (("rng", []), ("blk", ["--disk", img])):
        r = ctx.boot("pvh", "msix", ["--mem", "64M"] + extra, args="tk.dev=%s" % dev)
        check_pass(r, "msix")
        check(r.grep(r"TK: msix dev %s [0-9a-f]{2}\.0 entries 2 table " % dev),
              "%s: no MSI-X table of 2 entries" % dev, r)
        check(r.has("TK: msix config vector 0 queue0 vector 1 (out of range: 0xffff 0xffff)"),
              "%s: vectors not accepted, or out-of-range ones not refused" % dev, r)
        check(r.has("TK: msix vector 0x42 fired 1"), "%s: queue vector 0x42 did not fire" % dev, r)
        irq_read_check(r, "msix", dev, data)
        check(r.has("TK: msix masked fired 0 pba 0x2"), "%s: masked vector fired or not pending" % dev, r)
        check(r.has("TK: msix masked pending ok"), "%s: pending vector not delivered on unmask" % dev, r)
        check(r.grep(r"TK: msix config vector 0x41 fired 1 status 0x[0-9a-f]*[4-7c-f][0-9a-f]$"),
              "%s: no config interrupt for NEEDS_RESET" % dev, r)
    r = ctx.boot("bz", "msix", ["--mem", "64M"])
    check(r.rc == 255 and r.has("TK: FAIL msix: needs pvh"), "bzImage: want 'FAIL msix: needs pvh'", r)


@boot_test(60)
def test_intx(ctx):
    """INTx pin A -> IOAPIC GSI 16 + slot % 4 (the _PRT's), level-triggered, deasserted by the ISR read."""
    img, data = make_image(ctx, "intx.img", 1 * MiB)
    for dev, extra in (("rng", []), ("blk", ["--disk", img])):
        r = ctx.boot("pvh", "intx", ["--mem", "64M"] + extra, args="tk.dev=%s" % dev)
        check_pass(r, "intx")
        m = r.grep(r"TK: intx dev %s ([0-9a-f]{2})\.0 pin 1 line (\d+) " % dev)
        check(m, "%s: no 'intx dev' line" % dev, r)
        slot, line = int(m[0].group(1), 16), int(m[0].group(2))
        check(line == 16 + slot % 4, "%s: slot %d INTA# line %d, want GSI %d" % (dev, slot, line,
                                                                                 16 + slot % 4), r)
        for rnd in (1, 2):
            check(r.grep(r"TK: intx round %d fired 1 isr 0x1 spurious [01] remote_irr 0$" % rnd),
                  "%s: round %d: want one interrupt with ISR bit 0 and remote IRR clear" % (dev, rnd), r)
        check(r.has("TK: intx gsi %d vector 0x43 fired 2" % line), "%s: no 'intx gsi %d ... fired 2'"
              % (dev, line), r)
        irq_read_check(r, "intx", dev, data)
