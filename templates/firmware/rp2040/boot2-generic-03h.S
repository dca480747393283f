@ bnn-gen's RP2040 second-stage boot loader (boot2), source of the bytes in generator/src/emit/rp2040-boot2.ts.
@ The boot ROM copies the first 256 bytes of flash to SRAM (0x20041F00), checks the CRC32 in their last 4 bytes and
@ runs them with lr = 0. This code puts the XIP SSI into plain 03h serial reads (any SPI NOR flash answers them:
@ 8-bit command, 24-bit address, 32 data clocks per XIP access), then enters the application's vector table at
@ 0x10000100: VTOR, MSP and the reset vector. It keeps no state and uses no stack besides one push/pop.
@ Register facts: RP2040 datasheet 4.10.13 (SSI registers: CTRLR0 0x00, CTRLR1 0x04, SSIENR 0x08, BAUDR 0x14,
@ SPI_CTRLR0 0xF4; XIP_SSI_BASE 0x18000000) and 2.8.1 (boot sequence, the boot2 checksum).
@ Build check (test/real-boards.test.ts): arm-none-eabi-as -mcpu=cortex-m0plus -mthumb, objcopy -O binary, and the
@ result must equal the TS bytes.
    .syntax unified
    .cpu cortex-m0plus
    .thumb
    .section .boot2, "ax"
    .global bnn_boot2
    .type bnn_boot2, %function
bnn_boot2:
    push {lr}
    ldr r3, =0x18000000         @ XIP_SSI base
    movs r1, #0
    str r1, [r3, #0x08]         @ SSIENR = 0: the SSI must be off while it is configured
    movs r1, #4
    str r1, [r3, #0x14]         @ BAUDR = 4: SCK = clk_sys / 4 (clk_sys is the ~6 MHz ring oscillator here)
    ldr r1, =0x001F0300         @ CTRLR0: standard SPI frames, DFS_32 = 31 (32-bit frames), TMOD = 3 (EEPROM read)
    str r1, [r3, #0x00]
    ldr r1, =0x03000218         @ SPI_CTRLR0: XIP_CMD = 0x03, INST_L = 2 (8-bit command), ADDR_L = 6 (24 bits),
    ldr r0, =0x180000F4         @             TRANS_TYPE = 0 (command and address in standard SPI)
    str r1, [r0]
    movs r1, #0
    str r1, [r3, #0x04]         @ CTRLR1: NDF = 0, one 32-bit frame per XIP read
    movs r1, #1
    str r1, [r3, #0x08]         @ SSIENR = 1: XIP reads of 0x10000000.. now become 03h commands
    pop {r0}
    cmp r0, #0
    beq enter_image
    bx r0                       @ called as a function (lr != 0): return to the caller
enter_image:
    ldr r0, =0x10000100         @ the application's vector table, right after these 256 bytes
    ldr r1, =0xE000ED08         @ VTOR
    str r0, [r1]
    ldmia r0, {r0, r1}          @ initial SP, reset vector
    msr msp, r0
    bx r1
    .ltorg
