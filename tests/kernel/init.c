/*
 * PID 1 of the test VM. Mounts the filesystems a test run needs, says whether
 * the running kernel accepts PROCESS_VM_PIDFD and PROCESS_VM_NOWAIT, runs the
 * commands listed in /etc/vm-commands one after the other, and hands the
 * overall result to QEMU through the isa-debug-exit port (QEMU then exits with
 * status (code << 1) | 1: 1 when everything passed, 3 when something failed).
 *
 * /etc/vm-commands, one directive a line:
 *   env KEY=VALUE      set an environment variable for the commands after it
 *   cd DIR             change directory (ignored when DIR does not exist)
 *   run PROGRAM ARG... run a program (arguments split on spaces) and wait
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PROCESS_VM_PIDFD (1UL << 0)
#define PROCESS_VM_NOWAIT (1UL << 1)
#define DEBUG_EXIT_PORT 0xf4

static void mount_or_warn(const char *source, const char *target, const char *type)
{
	mkdir(target, 0755);
	if (mount(source, target, type, 0, NULL) != 0 && errno != EBUSY)
		printf("vm: mount %s on %s: %s\n", type, target, strerror(errno));
}

/* The probe the patch describes: EINVAL for an unknown flag (checked before
 * the buffers), EFAULT for a known one (the NULL iovec array fails). */
static const char *probe_flag(unsigned long flag)
{
	long target = getpid();
	if (flag & PROCESS_VM_PIDFD) {
		target = syscall(SYS_pidfd_open, getpid(), 0);
		if (target < 0)
			return "unknown (pidfd_open failed)";
	}
	long ret = syscall(SYS_process_vm_readv, target, NULL, 1, NULL, 1, flag);
	int err = errno;
	if (flag & PROCESS_VM_PIDFD)
		close((int)target);
	if (ret < 0 && err == EFAULT)
		return "true";
	if (ret < 0 && err == EINVAL)
		return "false";
	return "unknown (unexpected result)";
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int run(char *line)
{
	char *argv[64];
	int argc = 0;
	for (char *tok = strtok(line, " "); tok && argc < 63; tok = strtok(NULL, " "))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (argc == 0)
		return 0;

	printf("vm: $");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	fflush(stdout);

	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	pid_t pid = fork();
	if (pid < 0) {
		printf("vm: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execv(argv[0], argv);
		printf("vm: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/* As PID 1 we also reap orphans the command leaves behind. */
	int status;
	for (;;) {
		pid_t done = wait(&status);
		if (done == pid)
			break;
		if (done < 0 && errno != EINTR) {
			printf("vm: wait: %s\n", strerror(errno));
			return 1;
		}
	}
	double took = seconds_since(&start);
	if (WIFEXITED(status)) {
		printf("vm: %s exited with status %d after %.1f s\n", argv[0], WEXITSTATUS(status), took);
		return WEXITSTATUS(status) != 0;
	}
	printf("vm: %s killed by signal %d after %.1f s\n", argv[0], WTERMSIG(status), took);
	return 1;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	mount_or_warn("proc", "/proc", "proc");
	mount_or_warn("sysfs", "/sys", "sysfs");
	mount_or_warn("devtmpfs", "/dev", "devtmpfs");
	/* No tmpfs on /tmp: the root is already a writable ramfs, and the
	 * checkout may itself live under /tmp (its tests and snapshots are
	 * packed at their own paths). */
	mount_or_warn("tmpfs", "/dev/shm", "tmpfs");
	mount_or_warn("tmpfs", "/run", "tmpfs");

	char release[256] = "?";
	int fd = open("/proc/sys/kernel/osrelease", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, release, sizeof(release) - 1);
		release[n > 0 ? n : 0] = '\0';
		release[strcspn(release, "\n")] = '\0';
		close(fd);
	}
	printf("vm: booted kernel %s, %ld CPUs\n", release, sysconf(_SC_NPROCESSORS_ONLN));
	printf("vm: kernel probe: process_vm_pidfd: %s\n", probe_flag(PROCESS_VM_PIDFD));
	printf("vm: kernel probe: process_vm_nowait: %s\n", probe_flag(PROCESS_VM_NOWAIT));

	int failed = 0;
	FILE *commands = fopen("/etc/vm-commands", "r");
	if (!commands) {
		printf("vm: /etc/vm-commands: %s\n", strerror(errno));
		failed = 1;
	} else {
		char line[4096];
		while (fgets(line, sizeof(line), commands)) {
			line[strcspn(line, "\n")] = '\0';
			if (strncmp(line, "env ", 4) == 0) {
				putenv(strdup(line + 4));
			} else if (strncmp(line, "cd ", 3) == 0) {
				if (chdir(line + 3) != 0)
					printf("vm: cd %s: %s (staying in %s)\n", line + 3, strerror(errno), "/");
			} else if (strncmp(line, "run ", 4) == 0) {
				failed |= run(line + 4);
			} else if (line[0] != '\0' && line[0] != '#') {
				printf("vm: cannot understand command line: %s\n", line);
				failed = 1;
			}
		}
		fclose(commands);
	}

	printf("vm: RESULT %s\n", failed ? "FAILED" : "PASSED");
	fflush(stdout);
	/* QEMU exits the moment the port is written: let the UART send the
	 * console's buffered output first. */
	tcdrain(STDOUT_FILENO);
	if (ioperm(DEBUG_EXIT_PORT, 1, 1) == 0)
		outb(failed ? 1 : 0, DEBUG_EXIT_PORT);
	else
		printf("vm: ioperm: %s; powering off instead\n", strerror(errno));
	reboot(RB_POWER_OFF);
	return failed;
}
