// SPDX-License-Identifier: GPL-2.0-only
/* The service manager's readiness protocol (notify.h). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "msg.h"
#include "notify.h"

void notify(const char *text)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || !path[0])
		return;
	/* A path, or '@' and a name in the abstract namespace. */
	if ((path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path)) {
		pr_warn("NOTIFY_SOCKET=%s: not a socket path: the service manager is not told "
			"\"%s\"",
			path, text);
		return;
	}
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa, len) < 0)
		pr_warn("NOTIFY_SOCKET=%s: cannot tell the service manager \"%s\": %s", path, text,
			strerror(errno));
	if (fd >= 0)
		close(fd);
}
