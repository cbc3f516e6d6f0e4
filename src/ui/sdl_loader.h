/* The SDL2 functions the UI uses, resolved at run time from
 * libSDL2-2.0.so.0. Types come from SDL's headers (compile-time only). */
#ifndef MYVMM_SDL_LOADER_H
#define MYVMM_SDL_LOADER_H
#include <SDL.h>
#include <stddef.h>

#define SDL_FN(name) __typeof__(&SDL_##name) name
struct sdl_fns {
	void *handle;
	SDL_FN(Init); SDL_FN(Quit); SDL_FN(GetError); SDL_FN(SetHint);
	SDL_FN(CreateWindow); SDL_FN(DestroyWindow); SDL_FN(SetWindowTitle);
	SDL_FN(CreateRenderer); SDL_FN(DestroyRenderer); SDL_FN(RenderSetLogicalSize);
	SDL_FN(CreateTexture); SDL_FN(DestroyTexture); SDL_FN(UpdateTexture);
	SDL_FN(RenderClear); SDL_FN(SetRenderDrawColor); SDL_FN(RenderCopy);
	SDL_FN(RenderPresent); SDL_FN(WaitEventTimeout); SDL_FN(PollEvent);
	SDL_FN(SetRelativeMouseMode); SDL_FN(SetWindowGrab); SDL_FN(GetTicks);
	SDL_FN(GetModState);
};
#undef SDL_FN

/* dlopen()s libSDL2 and fills every pointer of fns. -ENOENT with a line in
 * err (naming the Debian package) if the library or a symbol is missing. */
int sdl_load(struct sdl_fns *fns, char *err, size_t errlen);
/* dlclose()s the library (after SDL_Quit). */
void sdl_unload(struct sdl_fns *fns);
#endif
