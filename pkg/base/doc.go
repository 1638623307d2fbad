// Package base makes the Debian base image without a registry: mmdebstrap
// bootstraps a minbase root filesystem from a Debian mirror, the tarball
// becomes a one-layer OCI image in Go, and the image is written straight into
// the engine's containerd content store, where BuildKit's containerd worker
// resolves it with llb.ResolveModePreferLocal.
//
//	err := base.Ensure(ctx, cs, images, base.WithMirror("http://mirror/debian"))
//
// The image carries no .deb files, apt lists, documentation or man pages, and
// a fixed SOURCE_DATE_EPOCH makes one mirror state give one digest.
package base
