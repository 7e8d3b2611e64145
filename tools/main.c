/* vnet: diagnose and serve remote-access VPNs. The command table is in cmdtab.c. */
#include "cmd.h"

int main(int argc, char **argv)
{
	return cmd_run(argc, argv);
}
