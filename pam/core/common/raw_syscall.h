/* SPDX-License-Identifier: BSD-3-Clause
 * System calls for a task that shares its caller's memory while the caller runs on (the ~/.chos
 * reader, request.c). glibc's syscall(2) stores a failure in errno, which lives in the
 * calling thread's TLS: a clone(CLONE_VM) child without a TLS of its own would write the
 * caller's errno behind its back. These return -errno in the result and touch no memory but
 * their arguments' (the kernel's own convention). */
#pragma once

#if defined(__x86_64__)
static inline long chos_raw_syscall(long nr, long a, long b, long c, long d)
{
	register long r10 __asm__("r10") = d;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
static inline long chos_raw_syscall(long nr, long a, long b, long c, long d)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;

	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
	return x0;
}
#else
#error "raw_syscall.h is written for x86_64 and aarch64"
#endif

#define chos_raw_syscall0(nr) chos_raw_syscall((nr), 0, 0, 0, 0)
#define chos_raw_syscall1(nr, a) chos_raw_syscall((nr), (long)(a), 0, 0, 0)
#define chos_raw_syscall2(nr, a, b) chos_raw_syscall((nr), (long)(a), (long)(b), 0, 0)
#define chos_raw_syscall3(nr, a, b, c) chos_raw_syscall((nr), (long)(a), (long)(b), (long)(c), 0)
#define chos_raw_syscall4(nr, a, b, c, d) \
	chos_raw_syscall((nr), (long)(a), (long)(b), (long)(c), (long)(d))
