/* What the shared microcontroller main offers the board code (fault handlers). */
#ifndef KILN_MCU_H
#define KILN_MCU_H

/* Reports a CPU fault to the host as an abort log ("kiln abort 0x0500: <reason>"), then stops. */
void kiln_mcu_fault(const char *reason);

#endif /* KILN_MCU_H */
