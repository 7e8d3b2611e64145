/* Fuzzes the certificate store loader and the inspection behind `vnet cert pick`.
 *
 * The first input byte chooses the file name (.pem, .der or .p12) and whether a password
 * is given; the rest is written to a scratch store directory under that name and loaded,
 * then every certificate that came out of it is inspected and the pick is run. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cert/certpick.h"
#include "cert/certstore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void write_file(const char *name, const uint8_t *p, size_t n)
{
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "wb");
	if (!fp)
		abort();
	if (n && fwrite(p, 1, n, fp) != n)
		abort();
	fclose(fp);
}

static void remove_files(void)
{
	static const char *const names[] = {"a.pem", "a.der", "a.p12"};
	char path[128];
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "/tmp/vnet-fuzz-cert-XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	if (size < 1 || size > 200000)
		return 0;
	uint8_t sel = data[0];
	static const char *const names[] = {"a.pem", "a.der", "a.p12"};
	remove_files();
	write_file(names[sel % 3], data + 1, size - 1);
	const char *pass = (sel & 0x10) ? "pw" : NULL;

	struct diag_err err;
	struct cert_store *s = certstore_load(dir, pass, &err);
	if (!s)
		abort(); /* the directory exists: loading must never fail as a whole */
	struct cert_pick_opts o = {0};
	o.purpose = (enum cert_purpose)((sel >> 2) & 3);
	o.at = 1893456000;
	o.server_name = "vpn.example.com";
	o.fix = true;
	o.endpoint = "192.0.2.1";
	struct cert_pick p;
	if (cert_pick_run(s, &o, &p, &err) == 0)
		cert_pick_free(&p);
	certstore_free(s);
	return 0;
}
