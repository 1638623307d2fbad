#!/bin/sh
# Mounted at /usr/sbin/policy-rc.d only while packages install (never part of
# a layer): maintainer scripts must not start nginx, mariadb or php-fpm inside
# the build container. 101 means "action forbidden by policy" to invoke-rc.d.
exit 101
