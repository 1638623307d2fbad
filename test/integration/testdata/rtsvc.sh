#!/bin/bash
# The runtime tests' service. Its environment says what it does:
#   MODE=crash      exit with EXIT_CODE (default 3) at once
#   PORTS="a b"     answer on each TCP port with the hostname, then close
#   READY_AFTER=s   touch /tmp/ready after s seconds (health checks test it)
#   MARKER_DIR=d    append "start" and, on SIGTERM, "term" to d/events
echo "rtsvc start pid $$ mode=${MODE:-serve}"
[ -n "$MARKER_DIR" ] && echo start >> "$MARKER_DIR/events"
term() {
	echo "rtsvc got SIGTERM"
	[ -n "$MARKER_DIR" ] && echo term >> "$MARKER_DIR/events"
	exit 0
}
trap term TERM
if [ "$MODE" = crash ]; then
	echo "rtsvc crashing"
	exit "${EXIT_CODE:-3}"
fi
if [ -n "$READY_AFTER" ]; then
	(sleep "$READY_AFTER"; touch /tmp/ready) &
else
	touch /tmp/ready
fi
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
