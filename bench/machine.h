/* machine.h: the line every benchmark prints beside its figures, so that a
 * figure always says what it was measured on:
 *
 *   machine kernel=<uname -r> cpus=<online> loadavg=<1 min>,<5 min>,<15 min>
 *
 * The load average is read when the line is printed (after the run): its
 * 1-minute figure covers the run itself. */
#pragma once

#include <stdio.h>
#include <sys/utsname.h>
#include <unistd.h>

static inline void bench_print_machine(FILE *out)
{
	struct utsname u;
	double l1 = -1, l5 = -1, l15 = -1;
	FILE *f = fopen("/proc/loadavg", "re");
	if (f) {
		if (fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) != 3)
			l1 = l5 = l15 = -1;
		fclose(f);
	}
	fprintf(out, "machine kernel=%s cpus=%ld loadavg=%.2f,%.2f,%.2f\n",
	        uname(&u) == 0 ? u.release : "?", sysconf(_SC_NPROCESSORS_ONLN), l1, l5, l15);
	fflush(out);
}
