/*
 * Test-only system library for Armv7-M/Armv8-M boards (never linked into production firmware):
 * a loop of exactly two instructions per iteration, to check that QEMU instruction counts are
 * exact; an abort with a reason; a bus fault.
 */
#include <stdint.h>

#include "kiln_runtime.h"
#include "kiln_syslib.h"

#define RT(res) ((kiln_runtime *)(res))

/* kiln_spin(Int n): SUBS + BNE, n times: 2n instructions. */
static int kiln_spin(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  uint32_t n;
  (void)codes;
  (void)ret;
  (void)ret_code;
  if (num != 1 || args[0].v_int64 < 1) {
    kiln_set_error(RT(res), "kiln_spin expects one Int n >= 1");
    return -1;
  }
  n = (uint32_t)args[0].v_int64;
  __asm__ volatile("1:\n\tsubs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
  return 0;
}

/* kiln_abort_with(Str reason): stops the device with that reason. */
static int kiln_abort_with(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  (void)codes;
  (void)ret;
  (void)ret_code;
  (void)num;
  kiln_abort(RT(res), 0x0500, args[0].v_str);
  return 0;
}

/* kiln_crash(): reads outside every memory window of the MPS2 map: a bus fault (HardFault). */
static int kiln_crash(kiln_value *args, int *codes, int num, kiln_value *ret, int *ret_code, void *res) {
  (void)args;
  (void)codes;
  (void)num;
  (void)res;
  ret->v_int64 = *(volatile uint32_t *)0x30000000u;
  *ret_code = 0;
  return 0;
}

static const kiln_function kFunctions[] = {
    {"kiln_spin", kiln_spin}, {"kiln_abort_with", kiln_abort_with}, {"kiln_crash", kiln_crash}};
static const kiln_module kBoardTestLib = {"kiln_board_test", kFunctions, 3, NULL};

const kiln_module *kiln_system_lib(void) { return &kBoardTestLib; }
