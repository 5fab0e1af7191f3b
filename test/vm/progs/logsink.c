/*
 * logsink FILE: the VM's syslog. The image runs no syslog daemon, so what pam_chos and chos
 * log would be lost; a suite that needs those lines (to say why a login landed where it did)
 * starts this in the background (lib/vm.sh: chos_vm_syslog). It binds /dev/log as a datagram
 * socket, as syslog(3) expects, and appends each message to FILE as one line, unchanged but
 * for a trailing newline. Runs until killed; the VM's power-off ends it.
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

#define DEV_LOG "/dev/log"

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char message[8192];
	FILE *out;
	int fd;

	CHECK(argc == 2, "usage: logsink FILE");
	out = fopen(argv[1], "a");
	CHECK(out != NULL, "cannot open %s", argv[1]);
	setvbuf(out, NULL, _IOLBF, 0);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0, "socket");
	strcpy(addr.sun_path, DEV_LOG);
	unlink(DEV_LOG);
	CHECK(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0, "bind %s", DEV_LOG);
	CHECK(chmod(DEV_LOG, 0666) == 0, "chmod %s", DEV_LOG);
	for (;;) {
		ssize_t n = recv(fd, message, sizeof(message) - 1, 0);

		if (n < 0)
			continue;
		while (n > 0 && (message[n - 1] == '\n' || message[n - 1] == '\0'))
			n--;
		message[n] = '\0';
		fprintf(out, "%s\n", message);
	}
}
