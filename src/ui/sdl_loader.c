/* Loads libSDL2 at run time (dlopen) so that headless runs never map it:
 * linking SDL cost every run ~6 ms and ~5 MiB RSS. SDL's headers give the
 * types; the functions come from one table of names resolved with dlsym. */
#include "ui/sdl_loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#define SDL_SONAME "libSDL2-2.0.so.0"

#define F(name) { "SDL_" #name, offsetof(struct sdl_fns, name) }
static const struct {
	const char *sym;
	size_t off;
} sdl_syms[] = {
	F(Init), F(Quit), F(GetError), F(SetHint), F(CreateWindow), F(DestroyWindow),
	F(SetWindowTitle), F(CreateRenderer), F(DestroyRenderer), F(RenderSetLogicalSize),
	F(CreateTexture), F(DestroyTexture), F(UpdateTexture), F(RenderClear),
	F(SetRenderDrawColor), F(RenderCopy), F(RenderPresent), F(WaitEventTimeout),
	F(PollEvent), F(SetRelativeMouseMode), F(SetWindowGrab), F(GetTicks), F(GetModState),
};
#undef F

int sdl_load(struct sdl_fns *fns, char *err, size_t errlen)
{
	void *h = dlopen(SDL_SONAME, RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(err, errlen, "--display sdl: cannot load %s (%s); install the libsdl2-2.0-0 "
			 "package or use --display none", SDL_SONAME, dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < sizeof(sdl_syms) / sizeof(sdl_syms[0]); i++) {
		void *p = dlsym(h, sdl_syms[i].sym);
		if (!p) {
			snprintf(err, errlen, "--display sdl: %s has no %s; install libsdl2-2.0-0 "
				 "2.0.16 or newer", SDL_SONAME, sdl_syms[i].sym);
			dlclose(h);
			return -ENOENT;
		}
		*(void **)((char *)fns + sdl_syms[i].off) = p;
	}
	fns->handle = h;
	return 0;
}

void sdl_unload(struct sdl_fns *fns)
{
	if (fns->handle)
		dlclose(fns->handle);
	fns->handle = NULL;
}
