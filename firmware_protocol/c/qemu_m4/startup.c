/*
 * Minimal Cortex-M4F startup for QEMU's `-machine mps2-an386`, to run the C codec's test program
 * (../test_proto.c) under emulation with newlib's semihosting (link with --specs=rdimon.specs
 * -nostartfiles and mps2_an386.ld).  printf/fputc reach the host through semihosting; exit(status)
 * ends QEMU with a non-zero exit code when status != 0.
 *
 * Reset: enable the FPU (the code is built with -mfloat-abi=hard, so the first VFP instruction
 * would fault with the FPU off), copy .data from flash, zero .bss, open the semihosting handles,
 * run main() and exit with its status.  Any fault prints a line and exits with status 3 (via a
 * direct semihosting call: the C library may be in an unknown state), so a crash never hangs the
 * emulator.
 */
#include <stdint.h>
#include <stdlib.h>

extern uint32_t __data_load__[];
extern uint32_t __data_start__[];
extern uint32_t __data_end__[];
extern uint32_t __bss_start__[];
extern uint32_t __bss_end__[];
extern uint32_t __stack_top__[];

extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);
extern int main(int argc, char **argv);

void Reset_Handler(void);
void Fault_Handler(void);
void _init(void);
void _fini(void);

/* crti.o / crtn.o are not linked (-nostartfiles); newlib's __libc_{init,fini}_array call these. */
void _init(void)
{
}

void _fini(void)
{
}

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)

#define SEMI_SYS_WRITE0 0x04u
#define SEMI_SYS_GET_CMDLINE 0x15u
#define SEMI_SYS_EXIT 0x18u
#define SEMI_SYS_EXIT_EXTENDED 0x20u
#define SEMI_ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uint32_t semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void Fault_Handler(void)
{
    /* SYS_EXIT_EXTENDED: {reason, status}; plain SYS_EXIT with a reason other than
     * ApplicationExit also makes QEMU exit with status 1 where the extension is missing. */
    static const uint32_t block[2] = {SEMI_ADP_STOPPED_APPLICATION_EXIT, 3u};
    semihost(SEMI_SYS_WRITE0, "FAULT: hard fault / exception on the emulated Cortex-M4\n");
    semihost(SEMI_SYS_EXIT_EXTENDED, block);
    semihost(SEMI_SYS_EXIT, (const void *)0x20023u); /* ADP_Stopped_RunTimeErrorUnknown */
    for (;;) {
    }
}

/* argv from the emulator's command line (QEMU: `-semihosting-config ...,arg=PROG,arg=A1,...`),
 * split at spaces; a fixed program name when the host gives none. */
static int get_args(char **argv, int max_args)
{
    static char cmdline[512];
    static char prog[] = "test_proto";
    uint32_t block[2];
    int argc = 0;
    char *p = cmdline;
    block[0] = (uint32_t)(uintptr_t)cmdline;
    block[1] = sizeof cmdline - 1u;
    if (semihost(SEMI_SYS_GET_CMDLINE, block) == 0u) {
        cmdline[block[1] < sizeof cmdline ? block[1] : sizeof cmdline - 1u] = '\0';
        while (*p != '\0' && argc < max_args) {
            while (*p == ' ') {
                *p++ = '\0';
            }
            if (*p == '\0') {
                break;
            }
            argv[argc++] = p;
            while (*p != '\0' && *p != ' ') {
                ++p;
            }
        }
    }
    if (argc == 0) {
        argv[argc++] = prog;
    }
    argv[argc] = NULL;
    return argc;
}

void Reset_Handler(void)
{
    static char *argv[9];
    int argc;
    uint32_t *src = __data_load__;
    uint32_t *dst = __data_start__;

    SCB_CPACR |= 0xFu << 20; /* CP10 and CP11 (the FPU): full access */
    __asm__ volatile("dsb\n\tisb" ::: "memory");

    while (dst < __data_end__) {
        *dst++ = *src++;
    }
    for (dst = __bss_start__; dst < __bss_end__; ++dst) {
        *dst = 0u;
    }
    /* newlib's crt0 is not linked (-nostartfiles): open stdin/stdout/stderr ourselves. */
    initialise_monitor_handles();
    __libc_init_array();
    argc = get_args(argv, 8);
    exit(main(argc, argv));
}

/* ARMv7-M vector table: initial stack pointer, reset, then the system exceptions (NMI, HardFault,
 * MemManage, BusFault, UsageFault, 4 reserved, SVCall, DebugMonitor, reserved, PendSV, SysTick).
 * No device interrupt is enabled, so none is listed. */
typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) static const vector_t g_vectors[16] = {
    (vector_t)(uintptr_t)__stack_top__,
    Reset_Handler,
    Fault_Handler,
    Fault_Handler,
    Fault_Handler,
    Fault_Handler,
    Fault_Handler,
    0,
    0,
    0,
    0,
    Fault_Handler,
    Fault_Handler,
    0,
    Fault_Handler,
    Fault_Handler,
};
