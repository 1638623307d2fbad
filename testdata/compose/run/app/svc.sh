#!/bin/bash
# The compose integration test's service. Its environment says what it does:
#   PORTS="a b"      answer on each TCP port with the hostname, then close
#   READY_AFTER=s    touch /tmp/ready after s seconds (the health check)
#   CRASH_ONCE=FILE  exit 3 the first time (FILE does not exist yet: made)
echo "svc start pid $$ as $(id -u):$(id -g) in $(pwd)"
trap 'echo "svc got SIGINT"; exit 0' INT
trap 'echo "svc got SIGTERM"; exit 0' TERM
if [ -n "$CRASH_ONCE" ] && [ ! -e "$CRASH_ONCE" ]; then
	echo crashed > "$CRASH_ONCE"
	echo "svc crashing once"
	exit 3
fi
(sleep "${READY_AFTER:-0}"; touch /tmp/ready) &
for p in $PORTS; do
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $ARGV[0], Listen => 16, ReuseAddr => 1)
			or die "listen $ARGV[0]: $!\n";
		open(my $h, "<", "/etc/hostname"); my $name = <$h>; close $h;
		while (my $c = $s->accept) { print $c $name; close $c }' "$p" &
done
while true; do
	sleep 1 &
	wait $!
done
