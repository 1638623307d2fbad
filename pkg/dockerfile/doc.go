// Package dockerfile writes the Dockerfile a person would write for an
// image that llbdefs describes as an LLB graph, with the build context it
// needs: the interoperable form of an image, and the Dockerfile variant of
// `inceptionctl bench`, built by BuildKit's Dockerfile frontend.
//
// The mapping, vertex by vertex:
//
//   - an image source is a stage, FROM ref AS name; a state that several
//     vertices use, or that another stage copies from, gets a stage of its
//     own; a chain used once continues the stage below it;
//   - an exec is a RUN, in exec form, or in shell form when the graph runs
//     a one-line /bin/sh -c script. Cache mounts become --mount=type=cache,
//     mounts of other states --mount=type=bind (from a stage, or from the
//     build context), tmpfs mounts --mount=type=tmpfs. The exec's
//     environment becomes ARG, not ENV: ARG reaches RUN like ENV but stays
//     out of the image config and out of stages built FROM this one, as an
//     exec's environment does in LLB. Cwd and user become WORKDIR and USER;
//   - files made on scratch (config files and scripts, embedded in
//     llbdefs) are written into the build context, one directory per
//     vertex, and copied with COPY; copies between states are COPY --from;
//     rm, mkdir and symlink on an image with a shell are a RUN of rm, mkdir
//     and ln;
//   - a Merge is what a Dockerfile author writes instead: its inputs copied
//     one after the other, plain COPY, on top of the first;
//   - the image config (ENV, LABEL, EXPOSE, VOLUME, WORKDIR, USER,
//     STOPSIGNAL, HEALTHCHECK, ENTRYPOINT, CMD) closes the last stage.
//
// Anything else (Diff, secrets, SSH, a network or security mode a
// Dockerfile cannot say, a file operation that is no chain) is an
// *UnsupportedError naming the vertex: nothing is dropped silently. File
// timestamps are not carried: COPY keeps the context files' times, which
// WriteContext sets to the graph's; directories made by RUN get the
// build's clock.
//
// Usage:
//
//	img, _ := llbdefs.Nginx()
//	res, err := dockerfile.FromImage(ctx, img)
//	if err != nil {
//		return err
//	}
//	os.Stdout.Write(res.Dockerfile)
//	err = res.WriteContext(dir) // dir/Dockerfile and the files it copies
package dockerfile
