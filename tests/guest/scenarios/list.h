/* Every scenario, one line each: SCENARIO(<tk= name>, <function>, <needs_acpi>).
 * The function is int fn(const struct bootinfo *, const struct acpi_info *),
 * returns 0 for PASS (or calls tk_pass/tk_fail itself); needs_acpi scans ACPI
 * quietly first (the timer then uses the PM timer). table.c includes this list
 * twice: once for the prototypes, once for the table. No include guard. */
SCENARIO("info", scen_info, false /* scans verbosely itself */)   /* info.c */
SCENARIO("smp", scen_smp, true)                                    /* smp.c */
SCENARIO("poweroff", scen_poweroff, true)                          /* power.c */
SCENARIO("reset-cf9", scen_reset_cf9, true)                        /* basic.c */
SCENARIO("reset-kbd", scen_reset_kbd, true)
SCENARIO("reset-acpi", scen_reset_acpi, true)
SCENARIO("hang", scen_hang, false)
SCENARIO("exit", scen_exit, false)
SCENARIO("rtc", scen_rtc, false)                                   /* rtc.c */
SCENARIO("serial-irq", scen_serial_irq, true)                      /* irq.c */
SCENARIO("int3", scen_int3, false)                                 /* basic.c */
SCENARIO("marker", scen_marker, false)
SCENARIO("blk-read", scen_blk_read, true)                          /* blk.c */
SCENARIO("blk-write", scen_blk_write, true)
SCENARIO("blk-reboot", scen_blk_reboot, true)
SCENARIO("blk-ro", scen_blk_ro, true)
SCENARIO("blk-two", scen_blk_two, true)
SCENARIO("blk-indirect", scen_blk_indirect, true)
SCENARIO("blk-disks", scen_blk_disks, true)
SCENARIO("blk-bench", scen_blk_bench, true)                        /* blkx.c */
SCENARIO("blk-swap", scen_blk_swap, true)                          /* blkswap.c */
SCENARIO("blk-dma", scen_blk_dma, true)                            /* blkdma.c */
SCENARIO("hostile", scen_blk_hostile, true)
SCENARIO("rng", scen_rng, true)                                    /* vmisc.c */
SCENARIO("vcons", scen_vcons, true)
SCENARIO("panic", scen_panic, true)
SCENARIO("fb", scen_fb, true)                                      /* fb.c */
SCENARIO("input", scen_input, true)
SCENARIO("fb-anim", scen_fb_anim, true)
SCENARIO("msix", scen_msix, true)                                  /* virtio_irq.c */
SCENARIO("intx", scen_intx, true)
SCENARIO("net", scen_net, true)                                    /* net.c */
SCENARIO("net-echo", scen_net_echo, true)
SCENARIO("net-probe", scen_net_probe, true)
SCENARIO("pwrbtn", scen_pwrbtn, true)                              /* pwrbtn.c */
SCENARIO("ticks", scen_ticks, true)                                /* ticks.c */
SCENARIO("pci-scan", scen_pci_scan, true)                          /* pciscan.c */
SCENARIO("vsock-echo", scen_vsock_echo, true)                      /* vsock.c */
SCENARIO("vsock-listen", scen_vsock_listen, true)
SCENARIO("snap-count", scen_snap_count, true)                      /* snap.c */
SCENARIO("hostile-flood", scen_hostile_flood, true)                /* hostile.c */
SCENARIO("hostile-reset", scen_hostile_reset, true)
SCENARIO("hostile-bounce", scen_hostile_bounce, true)
SCENARIO("hostile-pvpanic", scen_hostile_pvpanic, true)
SCENARIO("hostile-qsize", scen_hostile_qsize, true)
SCENARIO("fs", scen_fs, true)                                      /* fs.c */
