/* What the shared microcontroller main offers the board code (fault handlers). */
#ifndef KILN_MCU_H
#define KILN_MCU_H

/* Reports a CPU fault to the host as an abort log ("kiln abort 0x0500: <reason>"), then stops. */
void kiln_mcu_fault(const char *reason);

/* Busy-waits about 20 M instructions (about 0.1 s under QEMU) before a QEMU board exits: when QEMU
 * exits, a pseudo-terminal's unread bytes are discarded, so the host needs a moment to read the
 * abort reason. Counted in instructions, not time, so it is short at every -icount shift. */
void kiln_mcu_linger(void);

#endif /* KILN_MCU_H */
