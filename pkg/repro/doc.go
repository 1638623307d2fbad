// Package repro checks that images build reproducibly: it builds each
// target twice with every graph step run again (the build cache ignored,
// the cache mounts that hold downloaded packages kept), exports both as
// OCI tarballs, and compares their manifest digests. Where they differ it
// names the image config fields and the layers that differ, and in each
// such layer the files (path, size, mode, owner, time, content hash).
package repro
