/* SDL2 window on the main thread: pumps events (keyboard, mouse, close) and
 * renders at most 60 frames per second, copying only the rows the guest
 * dirtied into a streaming ARGB8888 texture that scales with the window. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/log.h"
#include "ui/display.h"
#include "ui/keymap.h"
#include "ui/sdl_loader.h"

#define FRAME_MS 16

struct sdl_ui {
	struct sdl_fns f;          /* filled once by sdl_load(), then read-only */
	const struct sdl_fns *sdl;
	struct display_host host;
	char name[64];
	SDL_Window *win;
	SDL_Renderer *ren;
	SDL_Texture *tex;
	uint32_t tex_w, tex_h, gen;
	bool blank;                /* no mode: show black */
	bool dirty;                /* present needed */
	bool grabbed;
	bool closing;              /* power button sent; next close quits */
	uint32_t close_ms;         /* when the last window close was handled */
	unsigned buttons;
	uint64_t presents, updates, rows;
	uint32_t t_start;
};

static void set_title(struct sdl_ui *ui)
{
	char t[160];
	snprintf(t, sizeof(t), "myvmm: %s (%s)%s", ui->name,
		 ui->closing ? "powering off: close again to quit" : "running",
		 ui->grabbed ? " - Ctrl-Alt-G releases the mouse" : "");
	ui->sdl->SetWindowTitle(ui->win, t);
}

static void destroy(void *opaque)
{
	struct sdl_ui *ui = opaque;
	if (!ui)
		return;
	if (ui->sdl) {
		uint32_t ms = ui->sdl->GetTicks() - ui->t_start;
		pr_info("display: %llu frames presented (%.1f fps), %llu texture updates, %llu rows "
			"copied in %.1f s", (unsigned long long)ui->presents,
			ms ? ui->presents * 1000.0 / ms : 0.0, (unsigned long long)ui->updates,
			(unsigned long long)ui->rows, ms / 1000.0);
		if (ui->tex)
			ui->sdl->DestroyTexture(ui->tex);
		if (ui->ren)
			ui->sdl->DestroyRenderer(ui->ren);
		if (ui->win)
			ui->sdl->DestroyWindow(ui->win);
		ui->sdl->Quit();
		sdl_unload(&ui->f);
	}
	free(ui);
}

static int create(const struct display_params *p, const struct display_host *h, void **out,
		  char err[DISPLAY_ERR_LEN])
{
	struct sdl_ui *ui = calloc(1, sizeof(*ui));
	int r;

	if (!ui)
		return -ENOMEM;
	/* Without these SDL silently falls back to its offscreen driver. */
	if (!getenv("DISPLAY") && !getenv("WAYLAND_DISPLAY") && !getenv("SDL_VIDEODRIVER")) {
		snprintf(err, DISPLAY_ERR_LEN, "--display sdl: no $DISPLAY (or $WAYLAND_DISPLAY) to "
			 "open a window on; use --display none");
		free(ui);
		return -ENXIO;
	}
	if ((r = sdl_load(&ui->f, err, DISPLAY_ERR_LEN))) {
		free(ui);
		return r;
	}
	ui->sdl = &ui->f;
	ui->host = *h;
	snprintf(ui->name, sizeof(ui->name), "%s", p->name ? p->name : "vm");
	/* Our signals are read through a signalfd; SDL must not take them. */
	ui->sdl->SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
	ui->sdl->SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
	/* The window's close button is the power button, not "quit" (SDL >= 2.0.22
	 * reads this; older ones send SDL_QUIT, which handle() de-duplicates). */
	ui->sdl->SetHint("SDL_QUIT_ON_LAST_WINDOW_CLOSE", "0");
	if (ui->sdl->Init(SDL_INIT_VIDEO) < 0) {
		snprintf(err, DISPLAY_ERR_LEN, "--display sdl: cannot open a window: %s; is $DISPLAY "
			 "right? (or use --display none)", ui->sdl->GetError());
		goto fail;
	}
	ui->win = ui->sdl->CreateWindow("myvmm", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
					(int)p->width, (int)p->height, SDL_WINDOW_RESIZABLE);
	if (ui->win)
		ui->ren = ui->sdl->CreateRenderer(ui->win, -1, 0);
	if (!ui->ren) {
		snprintf(err, DISPLAY_ERR_LEN, "--display sdl: %s", ui->sdl->GetError());
		goto fail;
	}
	ui->blank = true;
	ui->dirty = true;
	ui->t_start = ui->sdl->GetTicks();
	set_title(ui);
	*out = ui;
	return 0;
fail:
	destroy(ui);
	return -EIO;
}

/* display_draw_fn: runs under the VMM's display lock; only copies. */
static void draw(const struct display_frame *fr, void *arg)
{
	struct sdl_ui *ui = arg;
	const struct sdl_fns *s = ui->sdl;

	if (!fr->enabled || fr->bpp != 32) {
		if (!ui->blank)
			ui->dirty = true;
		ui->blank = true;
		return;
	}
	if (!ui->tex || fr->width != ui->tex_w || fr->height != ui->tex_h) {
		if (ui->tex)
			s->DestroyTexture(ui->tex);
		ui->tex = s->CreateTexture(ui->ren, SDL_PIXELFORMAT_ARGB8888,
					   SDL_TEXTUREACCESS_STREAMING, (int)fr->width, (int)fr->height);
		if (!ui->tex) {
			pr_warn_rl("display: texture %ux%u: %s", fr->width, fr->height, s->GetError());
			ui->tex_w = ui->tex_h = 0;
			return;
		}
		ui->tex_w = fr->width;
		ui->tex_h = fr->height;
		s->RenderSetLogicalSize(ui->ren, (int)fr->width, (int)fr->height);
	}
	ui->blank = false;
	for (unsigned i = 0; i < fr->nspans; i++) {
		uint32_t y0 = fr->spans[i].y0, y1 = fr->spans[i].y1;
		if (y1 > fr->height)
			y1 = fr->height;
		if (y0 >= y1)
			continue;
		SDL_Rect rc = { 0, (int)y0, (int)fr->width, (int)(y1 - y0) };
		s->UpdateTexture(ui->tex, &rc, fr->pixels + (size_t)y0 * fr->stride, (int)fr->stride);
		ui->updates++;
		ui->rows += y1 - y0;
		ui->dirty = true;
	}
}

static void render(struct sdl_ui *ui)
{
	const struct sdl_fns *s = ui->sdl;
	ui->host.frame(ui->host.opaque, draw, ui);
	if (!ui->dirty)
		return;
	s->SetRenderDrawColor(ui->ren, 0, 0, 0, 255);
	s->RenderClear(ui->ren);
	if (!ui->blank && ui->tex)
		s->RenderCopy(ui->ren, ui->tex, NULL, NULL);
	s->RenderPresent(ui->ren);
	ui->presents++;
	ui->dirty = false;
}

static void set_grab(struct sdl_ui *ui, bool on)
{
	ui->grabbed = on;
	ui->sdl->SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE);
	ui->sdl->SetWindowGrab(ui->win, on ? SDL_TRUE : SDL_FALSE);
	set_title(ui);
}

static void on_close(struct sdl_ui *ui)
{
	ui->close_ms = ui->sdl->GetTicks();
	if (!ui->closing) {
		ui->closing = true;
		set_title(ui);
		pr_info("display: window closed: pressing the ACPI power button");
		ui->host.power_button(ui->host.opaque);
	} else {
		pr_info("display: window closed again: stopping the VM");
		ui->host.quit(ui->host.opaque);
	}
}

static unsigned sdl_buttons(uint8_t b, bool down, unsigned cur)
{
	unsigned bit = b == SDL_BUTTON_LEFT ? DISPLAY_BTN_LEFT : b == SDL_BUTTON_RIGHT ?
		       DISPLAY_BTN_RIGHT : b == SDL_BUTTON_MIDDLE ? DISPLAY_BTN_MIDDLE : 0;
	return down ? cur | bit : cur & ~bit;
}

static void handle(struct sdl_ui *ui, const SDL_Event *ev)
{
	uint8_t seq[KEYMAP_MAX_SEQ];
	size_t n;

	switch (ev->type) {
	case SDL_QUIT:
		/* SDL follows a close of its last window with SDL_QUIT: that is
		 * the same request, not a second one. */
		if (!ui->close_ms || ui->sdl->GetTicks() - ui->close_ms > 500)
			on_close(ui);
		break;
	case SDL_WINDOWEVENT:
		if (ev->window.event == SDL_WINDOWEVENT_CLOSE)
			on_close(ui);
		else if (ev->window.event == SDL_WINDOWEVENT_EXPOSED ||
			 ev->window.event == SDL_WINDOWEVENT_SIZE_CHANGED)
			ui->dirty = true;
		break;
	case SDL_KEYDOWN:
	case SDL_KEYUP: {
		SDL_Keymod mod = ui->sdl->GetModState();
		bool hot = (mod & KMOD_CTRL) && (mod & KMOD_ALT);
		unsigned sc = (unsigned)ev->key.keysym.scancode;
		if (hot && sc == HID_G) {
			if (ev->type == SDL_KEYDOWN && !ev->key.repeat)
				set_grab(ui, !ui->grabbed);
			break;
		}
		if (hot && sc == HID_Q) {
			if (ev->type == SDL_KEYDOWN)
				ui->host.quit(ui->host.opaque);
			break;
		}
		n = keymap_set2(sc, ev->type == SDL_KEYDOWN, seq);
		if (n)
			ui->host.key(ui->host.opaque, seq, n);
		break;
	}
	case SDL_MOUSEMOTION:
		if (ev->motion.xrel || ev->motion.yrel)
			ui->host.mouse(ui->host.opaque, ev->motion.xrel, -ev->motion.yrel, ui->buttons);
		break;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP:
		ui->buttons = sdl_buttons(ev->button.button, ev->type == SDL_MOUSEBUTTONDOWN,
					  ui->buttons);
		ui->host.mouse(ui->host.opaque, 0, 0, ui->buttons);
		break;
	default:
		break;
	}
}

static void run(void *opaque, volatile int *stop)
{
	struct sdl_ui *ui = opaque;
	const struct sdl_fns *s = ui->sdl;
	uint32_t next = s->GetTicks();
	SDL_Event ev;

	while (!__atomic_load_n(stop, __ATOMIC_ACQUIRE)) {
		uint32_t now = s->GetTicks();
		int wait = (int32_t)(next - now) > 0 ? (int)(next - now) : 0;
		if (s->WaitEventTimeout(&ev, wait)) {
			handle(ui, &ev);
			while (s->PollEvent(&ev))
				handle(ui, &ev);
		}
		now = s->GetTicks();
		if ((int32_t)(now - next) >= 0) {
			render(ui);
			next += FRAME_MS;
			if ((int32_t)(now - next) > FRAME_MS) /* fell behind: do not catch up */
				next = now + FRAME_MS;
		}
	}
}

const struct display_ops sdl_display_ops = {
	.name = "sdl",
	.create = create,
	.run = run,
	.destroy = destroy,
};
