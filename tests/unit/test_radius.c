/* RADIUS codec tests on lab/radius-freeradius.pcap (radtest/radclient against FreeRADIUS
 * 3.2.1, shared secret "testing123"): field values checked against tshark's decode in
 * radius-freeradius.pcap.tshark.txt, authenticators and Message-Authenticators checked
 * against what FreeRADIUS computed, MPPE keys checked against our RFC 3079 derivation,
 * truncations, malformed lengths, encode(decode(x)) == x. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "radius.h"
#include "ppp.h"
#include "mschap.h"

/* lab/radius-freeradius.pcap frame 1: UDP payload */
static const uint8_t rad_f1[] = {
	0x01, 0xb0, 0x00, 0x4d, 0x1a, 0xcd, 0xcb, 0x5c, 0x4e, 0x47, 0x68, 0x12,
	0x59, 0xc3, 0x18, 0x51, 0x90, 0xf3, 0x14, 0x7e, 0x01, 0x09, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72, 0x02, 0x12, 0xe9, 0x42, 0x56, 0x31, 0x15,
	0x22, 0x56, 0xa5, 0x0e, 0x9d, 0xa4, 0x09, 0xd7, 0xd4, 0x0a, 0x4e, 0x04,
	0x06, 0x7f, 0x00, 0x00, 0x01, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x50,
	0x12, 0x2c, 0xd9, 0x1b, 0xf7, 0x30, 0xad, 0x7a, 0x04, 0x8d, 0x2d, 0x47,
	0x79, 0x98, 0x62, 0xdf, 0x67,
};
/* lab/radius-freeradius.pcap frame 2: UDP payload */
static const uint8_t rad_f2[] = {
	0x02, 0xb0, 0x00, 0x41, 0x15, 0x25, 0x35, 0xe1, 0xed, 0xbf, 0x90, 0x77,
	0x60, 0x15, 0xdb, 0xaf, 0x6b, 0xd6, 0xf6, 0x98, 0x08, 0x06, 0x0a, 0xc8,
	0x00, 0x0a, 0x07, 0x06, 0x00, 0x00, 0x00, 0x01, 0x06, 0x06, 0x00, 0x00,
	0x00, 0x02, 0x12, 0x1b, 0x76, 0x6e, 0x65, 0x74, 0x20, 0x6c, 0x61, 0x62,
	0x3a, 0x20, 0x77, 0x65, 0x6c, 0x63, 0x6f, 0x6d, 0x65, 0x20, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72,
};
/* lab/radius-freeradius.pcap frame 3: UDP payload */
static const uint8_t rad_f3[] = {
	0x01, 0x44, 0x00, 0x4d, 0xdc, 0x21, 0x93, 0x9a, 0x54, 0xd6, 0x0a, 0x44,
	0x95, 0xce, 0xee, 0x18, 0x5d, 0x5d, 0xa0, 0x14, 0x01, 0x09, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72, 0x02, 0x12, 0x69, 0x73, 0xb2, 0x75, 0xb8,
	0x2e, 0x3d, 0x2a, 0xc0, 0x1c, 0x48, 0x4d, 0xd7, 0x36, 0x20, 0x36, 0x04,
	0x06, 0x7f, 0x00, 0x00, 0x01, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x50,
	0x12, 0xf6, 0x58, 0xa0, 0xd8, 0x06, 0x14, 0x46, 0x0f, 0x05, 0xc8, 0x01,
	0x6e, 0x35, 0x3a, 0xf6, 0x1b,
};
/* lab/radius-freeradius.pcap frame 4: UDP payload */
static const uint8_t rad_f4[] = {
	0x03, 0x44, 0x00, 0x2f, 0xf3, 0x9d, 0xe8, 0xb8, 0x80, 0x03, 0x19, 0x75,
	0x7a, 0x38, 0x33, 0x44, 0xd0, 0x61, 0x9c, 0xce, 0x12, 0x1b, 0x76, 0x6e,
	0x65, 0x74, 0x20, 0x6c, 0x61, 0x62, 0x3a, 0x20, 0x77, 0x65, 0x6c, 0x63,
	0x6f, 0x6d, 0x65, 0x20, 0x6c, 0x61, 0x62, 0x75, 0x73, 0x65, 0x72,
};
/* lab/radius-freeradius.pcap frame 5: UDP payload */
static const uint8_t rad_f5[] = {
	0x01, 0x49, 0x00, 0x4e, 0xbd, 0x40, 0x6d, 0x52, 0x00, 0xce, 0x44, 0x82,
	0x60, 0x14, 0x0e, 0x7f, 0x92, 0xe4, 0x64, 0x67, 0x01, 0x09, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72, 0x03, 0x13, 0xaa, 0x76, 0x79, 0xfa, 0x82,
	0x74, 0x9a, 0x66, 0xf1, 0x91, 0x5c, 0xc9, 0x55, 0x78, 0x42, 0x23, 0xb0,
	0x04, 0x06, 0x7f, 0x00, 0x00, 0x01, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00,
	0x50, 0x12, 0xa6, 0x34, 0xd9, 0x3e, 0xbf, 0xd6, 0x1c, 0xf0, 0x64, 0xb2,
	0x89, 0x65, 0x87, 0xf6, 0xb7, 0xff,
};
/* lab/radius-freeradius.pcap frame 6: UDP payload */
static const uint8_t rad_f6[] = {
	0x02, 0x49, 0x00, 0x41, 0xdd, 0x65, 0x20, 0x43, 0x48, 0x72, 0xff, 0xb7,
	0x42, 0xba, 0x5c, 0x9c, 0xe2, 0x23, 0xa2, 0xa7, 0x08, 0x06, 0x0a, 0xc8,
	0x00, 0x0a, 0x07, 0x06, 0x00, 0x00, 0x00, 0x01, 0x06, 0x06, 0x00, 0x00,
	0x00, 0x02, 0x12, 0x1b, 0x76, 0x6e, 0x65, 0x74, 0x20, 0x6c, 0x61, 0x62,
	0x3a, 0x20, 0x77, 0x65, 0x6c, 0x63, 0x6f, 0x6d, 0x65, 0x20, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72,
};
/* lab/radius-freeradius.pcap frame 7: UDP payload */
static const uint8_t rad_f7[] = {
	0x01, 0xce, 0x00, 0x85, 0xd7, 0x6f, 0x06, 0x12, 0x39, 0xda, 0x46, 0x20,
	0x98, 0xd8, 0xac, 0x4e, 0xfa, 0xbe, 0xf7, 0xc0, 0x01, 0x09, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72, 0x04, 0x06, 0x7f, 0x00, 0x00, 0x01, 0x05,
	0x06, 0x00, 0x00, 0x00, 0x00, 0x50, 0x12, 0xb5, 0x23, 0x9f, 0xd7, 0x37,
	0xd6, 0x85, 0xb5, 0x92, 0x6c, 0x7e, 0xac, 0x68, 0x27, 0x8d, 0x05, 0x1a,
	0x10, 0x00, 0x00, 0x01, 0x37, 0x0b, 0x0a, 0xac, 0x84, 0xef, 0x31, 0x57,
	0x38, 0xe0, 0x0e, 0x1a, 0x3a, 0x00, 0x00, 0x01, 0x37, 0x01, 0x34, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0xc2, 0x7f, 0xfa, 0xa8, 0xe1, 0xd0, 0xf5, 0x7c, 0x78, 0xe4, 0x1a,
	0x30, 0xd3, 0x97, 0x6b, 0xa8, 0x84, 0x22, 0xef, 0xe7, 0xf4, 0x62, 0xc7,
	0xd8,
};
/* lab/radius-freeradius.pcap frame 8: UDP payload */
static const uint8_t rad_f8[] = {
	0x02, 0xce, 0x00, 0x81, 0xde, 0xa1, 0x0e, 0xcf, 0xe5, 0x33, 0x28, 0x17,
	0xfd, 0x7e, 0xf6, 0x63, 0x2e, 0x1c, 0xa2, 0xbf, 0x08, 0x06, 0x0a, 0xc8,
	0x00, 0x0a, 0x07, 0x06, 0x00, 0x00, 0x00, 0x01, 0x06, 0x06, 0x00, 0x00,
	0x00, 0x02, 0x12, 0x1b, 0x76, 0x6e, 0x65, 0x74, 0x20, 0x6c, 0x61, 0x62,
	0x3a, 0x20, 0x77, 0x65, 0x6c, 0x63, 0x6f, 0x6d, 0x65, 0x20, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72, 0x1a, 0x28, 0x00, 0x00, 0x01, 0x37, 0x0c,
	0x22, 0x4b, 0x50, 0xdf, 0x58, 0xc9, 0xf3, 0xfb, 0x37, 0xa3, 0xdd, 0x10,
	0xd1, 0x29, 0xb0, 0x80, 0x77, 0x0f, 0x9f, 0x29, 0xe7, 0x54, 0x16, 0x62,
	0x12, 0x22, 0xef, 0x4d, 0xc6, 0xa3, 0x24, 0x4e, 0x54, 0x1a, 0x0c, 0x00,
	0x00, 0x01, 0x37, 0x07, 0x06, 0x00, 0x00, 0x00, 0x01, 0x1a, 0x0c, 0x00,
	0x00, 0x01, 0x37, 0x08, 0x06, 0x00, 0x00, 0x00, 0x06,
};
/* lab/radius-freeradius.pcap frame 9: UDP payload */
static const uint8_t rad_f9[] = {
	0x01, 0x2e, 0x00, 0x9e, 0xa8, 0xba, 0x5d, 0x52, 0x21, 0x37, 0x71, 0xe2,
	0x13, 0x0d, 0x11, 0xd5, 0xb2, 0xca, 0x0e, 0xc4, 0x01, 0x09, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72, 0x1a, 0x18, 0x00, 0x00, 0x01, 0x37, 0x0b,
	0x12, 0x1a, 0x7a, 0xb2, 0xce, 0x37, 0x5b, 0x21, 0x7c, 0x92, 0xcc, 0xfe,
	0x28, 0xa8, 0xa2, 0x31, 0x50, 0x1a, 0x3a, 0x00, 0x00, 0x01, 0x37, 0x19,
	0x34, 0x01, 0x00, 0x58, 0x2f, 0xc8, 0x99, 0xbc, 0x29, 0xe1, 0xfe, 0x3b,
	0x95, 0x88, 0x46, 0x28, 0x8c, 0xcd, 0x7b, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x1e, 0x8a, 0x75, 0xaa, 0x37, 0xce, 0x58, 0x07, 0x61,
	0x3d, 0x47, 0xa6, 0x36, 0x44, 0x83, 0x50, 0x43, 0x18, 0x78, 0xf2, 0x54,
	0xc1, 0x11, 0x5e, 0x04, 0x06, 0x7f, 0x00, 0x00, 0x01, 0x3d, 0x06, 0x00,
	0x00, 0x00, 0x05, 0x06, 0x06, 0x00, 0x00, 0x00, 0x02, 0x07, 0x06, 0x00,
	0x00, 0x00, 0x01, 0x40, 0x06, 0x00, 0x00, 0x00, 0x03, 0x41, 0x06, 0x00,
	0x00, 0x00, 0x01, 0x1f, 0x0b, 0x31, 0x30, 0x2e, 0x37, 0x37, 0x2e, 0x30,
	0x2e, 0x32,
};
/* lab/radius-freeradius.pcap frame 10: UDP payload */
static const uint8_t rad_f10[] = {
	0x02, 0x2e, 0x00, 0xe0, 0x48, 0x38, 0x7c, 0xf7, 0x3a, 0xd7, 0x40, 0xe9,
	0x01, 0x66, 0xf8, 0x33, 0x9c, 0x09, 0x9c, 0xe8, 0x08, 0x06, 0x0a, 0xc8,
	0x00, 0x0a, 0x07, 0x06, 0x00, 0x00, 0x00, 0x01, 0x06, 0x06, 0x00, 0x00,
	0x00, 0x02, 0x12, 0x1b, 0x76, 0x6e, 0x65, 0x74, 0x20, 0x6c, 0x61, 0x62,
	0x3a, 0x20, 0x77, 0x65, 0x6c, 0x63, 0x6f, 0x6d, 0x65, 0x20, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72, 0x1a, 0x33, 0x00, 0x00, 0x01, 0x37, 0x1a,
	0x2d, 0x01, 0x53, 0x3d, 0x35, 0x38, 0x38, 0x33, 0x30, 0x41, 0x39, 0x34,
	0x39, 0x32, 0x36, 0x37, 0x37, 0x31, 0x39, 0x46, 0x42, 0x39, 0x35, 0x41,
	0x38, 0x35, 0x30, 0x31, 0x37, 0x41, 0x30, 0x42, 0x46, 0x42, 0x31, 0x32,
	0x46, 0x31, 0x41, 0x41, 0x33, 0x39, 0x43, 0x33, 0x1a, 0x2a, 0x00, 0x00,
	0x01, 0x37, 0x11, 0x24, 0x81, 0x27, 0xf0, 0x93, 0x91, 0x95, 0x42, 0xc7,
	0x1e, 0xcc, 0x11, 0x07, 0xf5, 0x03, 0x48, 0xed, 0x0e, 0x37, 0x9e, 0xb9,
	0xf5, 0x52, 0x2e, 0x99, 0xf3, 0x01, 0xb3, 0x59, 0xd3, 0x2a, 0x09, 0xfb,
	0xf7, 0xaf, 0x1a, 0x2a, 0x00, 0x00, 0x01, 0x37, 0x10, 0x24, 0x8e, 0xba,
	0x0a, 0x67, 0xb8, 0x1f, 0xd8, 0x92, 0xd2, 0xc5, 0x8e, 0x7f, 0x5c, 0xc9,
	0x41, 0x0f, 0xf7, 0x97, 0xb3, 0xc6, 0x79, 0x31, 0x48, 0xab, 0xc7, 0x6e,
	0xf7, 0xe6, 0x51, 0x64, 0x3f, 0xf8, 0x21, 0xe1, 0x1a, 0x0c, 0x00, 0x00,
	0x01, 0x37, 0x07, 0x06, 0x00, 0x00, 0x00, 0x01, 0x1a, 0x0c, 0x00, 0x00,
	0x01, 0x37, 0x08, 0x06, 0x00, 0x00, 0x00, 0x06,
};
/* lab/radius-freeradius.pcap frame 11: UDP payload */
static const uint8_t rad_f11[] = {
	0x01, 0xe1, 0x00, 0x9e, 0xe9, 0xa0, 0x1c, 0x79, 0xb2, 0xcc, 0x93, 0x99,
	0x14, 0x8e, 0x1c, 0x86, 0x01, 0xe0, 0x3f, 0x62, 0x01, 0x09, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72, 0x1a, 0x18, 0x00, 0x00, 0x01, 0x37, 0x0b,
	0x12, 0x06, 0x10, 0x27, 0x32, 0x5c, 0x5b, 0x58, 0x9a, 0x28, 0x7b, 0xd2,
	0x33, 0x15, 0xe7, 0xd2, 0x38, 0x1a, 0x3a, 0x00, 0x00, 0x01, 0x37, 0x19,
	0x34, 0x01, 0x00, 0xfa, 0x5c, 0xd8, 0xa0, 0x74, 0x4e, 0xfd, 0xe9, 0x8f,
	0x50, 0x01, 0xd6, 0x04, 0x7f, 0x2a, 0x42, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x04, 0x06, 0x7f, 0x00, 0x00, 0x01, 0x3d, 0x06, 0x00,
	0x00, 0x00, 0x05, 0x06, 0x06, 0x00, 0x00, 0x00, 0x02, 0x07, 0x06, 0x00,
	0x00, 0x00, 0x01, 0x40, 0x06, 0x00, 0x00, 0x00, 0x03, 0x41, 0x06, 0x00,
	0x00, 0x00, 0x01, 0x1f, 0x0b, 0x31, 0x30, 0x2e, 0x37, 0x37, 0x2e, 0x30,
	0x2e, 0x32,
};
/* lab/radius-freeradius.pcap frame 12: UDP payload */
static const uint8_t rad_f12[] = {
	0x03, 0xe1, 0x00, 0x82, 0x27, 0x8c, 0x58, 0x9b, 0x08, 0x4c, 0x53, 0x38,
	0xed, 0xfb, 0x50, 0x02, 0xc2, 0x01, 0xef, 0x19, 0x12, 0x1b, 0x76, 0x6e,
	0x65, 0x74, 0x20, 0x6c, 0x61, 0x62, 0x3a, 0x20, 0x77, 0x65, 0x6c, 0x63,
	0x6f, 0x6d, 0x65, 0x20, 0x6c, 0x61, 0x62, 0x75, 0x73, 0x65, 0x72, 0x1a,
	0x53, 0x00, 0x00, 0x01, 0x37, 0x02, 0x4d, 0x01, 0x45, 0x3d, 0x36, 0x39,
	0x31, 0x20, 0x52, 0x3d, 0x31, 0x20, 0x43, 0x3d, 0x35, 0x30, 0x32, 0x38,
	0x35, 0x32, 0x31, 0x62, 0x61, 0x33, 0x36, 0x35, 0x37, 0x34, 0x38, 0x32,
	0x34, 0x64, 0x34, 0x34, 0x35, 0x39, 0x34, 0x30, 0x36, 0x34, 0x65, 0x34,
	0x62, 0x34, 0x66, 0x35, 0x20, 0x56, 0x3d, 0x33, 0x20, 0x4d, 0x3d, 0x41,
	0x75, 0x74, 0x68, 0x65, 0x6e, 0x74, 0x69, 0x63, 0x61, 0x74, 0x69, 0x6f,
	0x6e, 0x20, 0x72, 0x65, 0x6a, 0x65, 0x63, 0x74, 0x65, 0x64,
};
/* lab/radius-freeradius.pcap frame 13: UDP payload */
static const uint8_t rad_f13[] = {
	0x04, 0x50, 0x00, 0x46, 0x82, 0xde, 0x2d, 0xdc, 0x64, 0x85, 0x95, 0x59,
	0xe9, 0x18, 0x5a, 0xd3, 0x32, 0x11, 0x41, 0x80, 0x01, 0x09, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72, 0x28, 0x06, 0x00, 0x00, 0x00, 0x01, 0x2c,
	0x0b, 0x76, 0x6e, 0x65, 0x74, 0x2d, 0x30, 0x30, 0x30, 0x31, 0x04, 0x06,
	0x7f, 0x00, 0x00, 0x01, 0x3d, 0x06, 0x00, 0x00, 0x00, 0x05, 0x08, 0x06,
	0x0a, 0xc8, 0x00, 0x0a, 0x40, 0x06, 0x00, 0x00, 0x00, 0x03,
};
/* lab/radius-freeradius.pcap frame 14: UDP payload */
static const uint8_t rad_f14[] = {
	0x05, 0x50, 0x00, 0x14, 0xde, 0x42, 0x99, 0x6c, 0x80, 0x82, 0xf6, 0xc5,
	0x39, 0xb2, 0x35, 0x93, 0xff, 0xba, 0xa5, 0xa6,
};
/* lab/radius-freeradius.pcap frame 15: UDP payload */
static const uint8_t rad_f15[] = {
	0x04, 0x70, 0x00, 0x52, 0xc6, 0x23, 0x61, 0xdd, 0x2b, 0x1e, 0xeb, 0xd4,
	0x30, 0xaa, 0x3a, 0x99, 0xef, 0x28, 0x12, 0x51, 0x01, 0x09, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72, 0x28, 0x06, 0x00, 0x00, 0x00, 0x02, 0x2c,
	0x0b, 0x76, 0x6e, 0x65, 0x74, 0x2d, 0x30, 0x30, 0x30, 0x31, 0x04, 0x06,
	0x7f, 0x00, 0x00, 0x01, 0x08, 0x06, 0x0a, 0xc8, 0x00, 0x0a, 0x2e, 0x06,
	0x00, 0x00, 0x00, 0x2a, 0x2a, 0x06, 0x00, 0x00, 0x04, 0xd2, 0x2b, 0x06,
	0x00, 0x00, 0x16, 0x2e, 0x31, 0x06, 0x00, 0x00, 0x00, 0x01,
};
/* lab/radius-freeradius.pcap frame 16: UDP payload */
static const uint8_t rad_f16[] = {
	0x05, 0x70, 0x00, 0x14, 0xe3, 0xe5, 0x4f, 0x40, 0x85, 0xd6, 0x1a, 0xa4,
	0x2b, 0xd6, 0x65, 0x8c, 0x0d, 0x96, 0x13, 0x24,
};

/* EAP-MD5 through RADIUS, recorded on loopback for this test: radeapclient (freeradius-utils
 * 3.2.1) against FreeRADIUS 3.2.1 with its stock configuration on UDP port 21812, secret
 * "testing123", user labuser/labpass; fields checked against tshark -V with
 * -d udp.port==21812,radius. */
/* frame 1: Access-Request, EAP-Message Response/Identity "labuser" */
static const uint8_t eap_f1[] = {
	0x01, 0x8d, 0x00, 0x43, 0x12, 0x62, 0x55, 0xc0, 0xe9, 0x92, 0x66, 0x8a,
	0xa5, 0x9f, 0xde, 0xd6, 0x3b, 0x85, 0x54, 0xd4, 0x01, 0x09, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72, 0x50, 0x12, 0x0a, 0x56, 0x16, 0xaa, 0x9f,
	0xde, 0x4e, 0x76, 0x66, 0x0e, 0xdc, 0xa5, 0x2d, 0x1e, 0x59, 0x0b, 0x05,
	0x06, 0x00, 0x00, 0x00, 0x00, 0x4f, 0x0e, 0x02, 0xd2, 0x00, 0x0c, 0x01,
	0x6c, 0x61, 0x62, 0x75, 0x73, 0x65, 0x72,
};
/* frame 2: Access-Challenge, EAP-Message Request/MD5-Challenge */
static const uint8_t eap_f2[] = {
	0x0b, 0x8d, 0x00, 0x50, 0xbd, 0xeb, 0x92, 0x77, 0x90, 0x17, 0x30, 0xcb,
	0xa1, 0x14, 0x03, 0xef, 0x55, 0x06, 0xc4, 0xa2, 0x4f, 0x18, 0x01, 0xd3,
	0x00, 0x16, 0x04, 0x10, 0x0f, 0x9d, 0x20, 0xc6, 0x96, 0xf4, 0x91, 0x69,
	0x31, 0xa5, 0xac, 0xe1, 0xd3, 0x14, 0x6a, 0x5d, 0x50, 0x12, 0xd6, 0x0f,
	0x8f, 0x7a, 0x45, 0x75, 0x50, 0x1d, 0x6e, 0x5c, 0x22, 0xc4, 0xf6, 0x5c,
	0x51, 0x74, 0x18, 0x12, 0x1a, 0x2d, 0xa2, 0x17, 0x1a, 0xfe, 0xa6, 0x4b,
	0xf0, 0x8a, 0xa3, 0x65, 0x23, 0x5a, 0x05, 0x23,
};
/* frame 3: Access-Request, EAP-Message Response/MD5-Challenge */
static const uint8_t eap_f3[] = {
	0x01, 0xef, 0x00, 0x5f, 0x9a, 0xb6, 0x2c, 0xb9, 0xeb, 0x3e, 0xec, 0x6f,
	0xb2, 0xbb, 0x26, 0xf4, 0xb0, 0xff, 0x3e, 0xe4, 0x01, 0x09, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72, 0x50, 0x12, 0x29, 0x1b, 0x39, 0xb6, 0x9a,
	0x5a, 0xc2, 0x6e, 0xfa, 0x2d, 0x59, 0x95, 0x34, 0x63, 0x55, 0xe7, 0x05,
	0x06, 0x00, 0x00, 0x00, 0x00, 0x18, 0x12, 0x1a, 0x2d, 0xa2, 0x17, 0x1a,
	0xfe, 0xa6, 0x4b, 0xf0, 0x8a, 0xa3, 0x65, 0x23, 0x5a, 0x05, 0x23, 0x4f,
	0x18, 0x02, 0xd3, 0x00, 0x16, 0x04, 0x10, 0x6f, 0x77, 0xac, 0x1f, 0xa3,
	0x18, 0x2a, 0x8c, 0x71, 0x7d, 0xb4, 0x28, 0xd7, 0x15, 0xe2, 0xc5,
};
/* frame 4: Access-Accept, EAP-Message Success */
static const uint8_t eap_f4[] = {
	0x02, 0xef, 0x00, 0x35, 0xf9, 0x90, 0xa6, 0x9b, 0x61, 0x36, 0xb9, 0x94,
	0xa4, 0x46, 0x40, 0x15, 0xca, 0xc5, 0x08, 0xe8, 0x4f, 0x06, 0x03, 0xd3,
	0x00, 0x04, 0x50, 0x12, 0x4d, 0xf5, 0xc7, 0xe1, 0xa1, 0x69, 0x3f, 0xbe,
	0x75, 0xbc, 0x07, 0xed, 0xcd, 0x35, 0xf1, 0x34, 0x01, 0x09, 0x6c, 0x61,
	0x62, 0x75, 0x73, 0x65, 0x72,
};

struct vec { const char *name; const uint8_t *p; size_t len; };
#define V(x) { #x, x, sizeof x }
static const struct vec vecs[] = {
	V(rad_f1), V(rad_f2), V(rad_f3), V(rad_f4), V(rad_f5), V(rad_f6), V(rad_f7), V(rad_f8),
	V(rad_f9), V(rad_f10), V(rad_f11), V(rad_f12), V(rad_f13), V(rad_f14), V(rad_f15),
	V(rad_f16), V(eap_f1), V(eap_f2), V(eap_f3), V(eap_f4),
};
#define NVECS (sizeof vecs / sizeof vecs[0])
static const uint8_t secret[] = "testing123";
#define SECRET secret, sizeof secret - 1

static struct radius_msg m;
static struct diag_err err;

static void dec_ok(const uint8_t *p, size_t n)
{
	memset(&err, 0, sizeof err);
	int rc = radius_decode(p, n, &m, &err);
	ck_assert_msg(rc == 0, "decode failed: %zu %s", err.off, err.reason);
}

static void dec_fail(const uint8_t *p, size_t n, size_t off, const char *needle)
{
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(radius_decode(p, n, &m, &err), -1);
	ck_assert_msg(err.off == off, "offset %zu, want %zu (%s)", err.off, off, err.reason);
	ck_assert_msg(strstr(err.reason, needle), "reason \"%s\" lacks \"%s\"", err.reason, needle);
}

static const char *summary(void)
{
	static char b[1024];
	radius_summary(&m, b, sizeof b);
	return b;
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

START_TEST(access_request_pap)
{
	/* tshark frame 1: Access-Request id 176, User-Name labuser, User-Password (16),
	 * NAS-IP-Address 127.0.0.1, NAS-Port 0, Message-Authenticator 2cd91bf7... */
	dec_ok(rad_f1, sizeof rad_f1);
	ck_assert_uint_eq(m.code, RADIUS_ACCESS_REQUEST);
	ck_assert_uint_eq(m.id, 176);
	ck_assert_uint_eq(m.length, 77);
	ck_assert_uint_eq(m.nattrs, 5);
	const struct radius_attr *a = radius_find(&m, RADIUS_ATTR_USER_NAME);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->vlen, 7);
	ck_assert_mem_eq(a->val, "labuser", 7);
	ck_assert_uint_eq(a->off, 20);
	a = radius_find(&m, RADIUS_ATTR_NAS_IP_ADDRESS);
	ck_assert_uint_eq(be32(a->val), 0x7f000001);
	ck_assert_str_eq(summary(), "RADIUS Access-Request id 176 [User-Name=\"labuser\" "
	                 "User-Password=(hidden, 16 bytes) NAS-IP-Address=127.0.0.1 NAS-Port=0 "
	                 "Message-Authenticator=0x2cd91bf730ad7a048d2d47799862df67]");
	/* the password, hidden with the request authenticator and the secret */
	a = radius_find(&m, RADIUS_ATTR_USER_PASSWORD);
	uint8_t pw[128];
	int n = radius_unhide_password(a->val, a->vlen, SECRET, m.auth, pw);
	ck_assert_int_eq(n, 7);
	ck_assert_mem_eq(pw, "labpass", 7);
	/* hiding it again gives FreeRADIUS's client's bytes */
	uint8_t hid[128];
	ck_assert_uint_eq(radius_hide_password(pw, 7, SECRET, m.auth, hid, sizeof hid), 16);
	ck_assert_mem_eq(hid, a->val, 16);
	/* frame 3 is the rejected attempt: a different password */
	dec_ok(rad_f3, sizeof rad_f3);
	a = radius_find(&m, RADIUS_ATTR_USER_PASSWORD);
	n = radius_unhide_password(a->val, a->vlen, SECRET, m.auth, pw);
	ck_assert_int_gt(n, 0);
	ck_assert(n != 7 || memcmp(pw, "labpass", 7) != 0);
	/* the request's Message-Authenticator as computed by radclient */
	ck_assert_int_eq(radius_verify_msg_auth(rad_f1, sizeof rad_f1, NULL, SECRET), 1);
	ck_assert_int_eq(radius_verify_msg_auth(rad_f1, sizeof rad_f1, NULL,
	                                        (const uint8_t *)"testing124", 10), 0);
	/* an Access-Request authenticator is random: nothing to verify */
	ck_assert_int_eq(radius_verify_auth(rad_f1, sizeof rad_f1, NULL, SECRET), -1);
}
END_TEST

START_TEST(response_authenticators)
{
	/* every response in the capture against its request */
	static const struct { const uint8_t *req; size_t rl; const uint8_t *resp; size_t sl; } pr[] = {
		{ rad_f1, sizeof rad_f1, rad_f2, sizeof rad_f2 },
		{ rad_f3, sizeof rad_f3, rad_f4, sizeof rad_f4 },
		{ rad_f5, sizeof rad_f5, rad_f6, sizeof rad_f6 },
		{ rad_f7, sizeof rad_f7, rad_f8, sizeof rad_f8 },
		{ rad_f9, sizeof rad_f9, rad_f10, sizeof rad_f10 },
		{ rad_f11, sizeof rad_f11, rad_f12, sizeof rad_f12 },
		{ rad_f13, sizeof rad_f13, rad_f14, sizeof rad_f14 },
		{ rad_f15, sizeof rad_f15, rad_f16, sizeof rad_f16 },
	};
	for (size_t i = 0; i < sizeof pr / sizeof pr[0]; i++) {
		const uint8_t *ra = pr[i].req + 4;
		ck_assert_int_eq(radius_verify_auth(pr[i].resp, pr[i].sl, ra, SECRET), 1);
		ck_assert_int_eq(radius_verify_auth(pr[i].resp, pr[i].sl, ra,
		                                    (const uint8_t *)"testing12", 9), 0);
		/* against another request's authenticator */
		ck_assert_int_eq(radius_verify_auth(pr[i].resp, pr[i].sl, pr[(i + 1) % 8].req + 4,
		                                    SECRET), 0);
		/* a response needs the request authenticator */
		ck_assert_int_eq(radius_verify_auth(pr[i].resp, pr[i].sl, NULL, SECRET), -1);
		/* re-signing the decoded and re-encoded response gives FreeRADIUS's bytes */
		dec_ok(pr[i].resp, pr[i].sl);
		uint8_t out[4096];
		size_t n = radius_encode(&m, out, sizeof out);
		ck_assert_uint_eq(n, pr[i].sl);
		memset(out + 4, 0, 16);
		ck_assert_int_eq(radius_sign(out, n, ra, SECRET), 0);
		ck_assert_mem_eq(out, pr[i].resp, n);
	}
	/* accounting requests (frames 13, 15): MD5 over a zero authenticator */
	ck_assert_int_eq(radius_verify_auth(rad_f13, sizeof rad_f13, NULL, SECRET), 1);
	ck_assert_int_eq(radius_verify_auth(rad_f15, sizeof rad_f15, NULL, SECRET), 1);
	uint8_t copy[sizeof rad_f15];
	memcpy(copy, rad_f15, sizeof copy);
	copy[sizeof copy - 1] ^= 1; /* Acct-Terminate-Cause altered */
	ck_assert_int_eq(radius_verify_auth(copy, sizeof copy, NULL, SECRET), 0);
	memset(copy + 4, 0, 16);
	copy[sizeof copy - 1] ^= 1;
	ck_assert_int_eq(radius_sign(copy, sizeof copy, NULL, SECRET), 0);
	ck_assert_mem_eq(copy, rad_f15, sizeof copy);
	/* Message-Authenticators on the other requests */
	ck_assert_int_eq(radius_verify_msg_auth(rad_f3, sizeof rad_f3, NULL, SECRET), 1);
	ck_assert_int_eq(radius_verify_msg_auth(rad_f5, sizeof rad_f5, NULL, SECRET), 1);
	ck_assert_int_eq(radius_verify_msg_auth(rad_f7, sizeof rad_f7, NULL, SECRET), 1);
	/* no Message-Authenticator in frame 9 */
	ck_assert_int_eq(radius_verify_msg_auth(rad_f9, sizeof rad_f9, NULL, SECRET), -1);
}
END_TEST

START_TEST(mschapv2_exchange)
{
	/* tshark frame 9: MS-CHAP-Challenge 1a7ab2ce..., MS-CHAP2-Response ident 1,
	 * NAS-Port-Type Virtual (5), Service-Type Framed (2), Framed-Protocol PPP (1),
	 * Tunnel-Type tag 0 L2TP (3), Tunnel-Medium-Type tag 0 IP (1), Calling-Station-Id */
	dec_ok(rad_f9, sizeof rad_f9);
	const struct radius_attr *ch = radius_find_vsa(&m, RADIUS_VENDOR_MICROSOFT, MS_CHAP_CHALLENGE);
	const struct radius_attr *rs = radius_find_vsa(&m, RADIUS_VENDOR_MICROSOFT, MS_CHAP2_RESPONSE);
	ck_assert_ptr_nonnull(ch);
	ck_assert_ptr_nonnull(rs);
	ck_assert_uint_eq(ch->vlen, 16);
	ck_assert_uint_eq(rs->vlen, 50);
	ck_assert_uint_eq(rs->val[0], 1);
	ck_assert_uint_eq(be32(radius_find(&m, 61)->val), 5);
	ck_assert_uint_eq(be32(radius_find(&m, RADIUS_ATTR_SERVICE_TYPE)->val), 2);
	const struct radius_attr *tt = radius_find(&m, RADIUS_ATTR_TUNNEL_TYPE);
	ck_assert_uint_eq(tt->val[0], 0);
	ck_assert_uint_eq(be32(tt->val) & 0xffffff, 3);
	json_t *j = radius_to_json(&m);
	json_t *attrs = json_object_get(j, "attributes");
	json_t *a2 = json_array_get(attrs, 2);
	ck_assert_str_eq(json_string_value(json_object_get(a2, "vendor")), "Microsoft");
	ck_assert_int_eq(json_integer_value(json_object_get(a2, "vendor_num")), 311);
	ck_assert_str_eq(json_string_value(json_object_get(a2, "name")), "MS-CHAP2-Response");
	ck_assert_str_eq(json_string_value(json_object_get(a2, "peer_challenge")),
	                 "582fc899bc29e1fe3b958846288ccd7b");
	json_t *tj = json_array_get(attrs, 7);
	ck_assert_str_eq(json_string_value(json_object_get(tj, "value")), "L2TP");
	ck_assert_int_eq(json_integer_value(json_object_get(tj, "value_num")), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(tj, "tag")), 0);
	json_decref(j);

	/* the NT response is radtest's for labuser/labpass */
	uint8_t nt[24];
	ck_assert_int_eq(mschap2_nt_response(ch->val, rs->val + 2, "labuser", 7, "labpass", 7, nt), 0);
	ck_assert_mem_eq(nt, rs->val + 26, 24);

	/* tshark frame 10: Access-Accept with MS-CHAP2-Success ident 1, S=58830A94... */
	uint8_t req_auth[16];
	memcpy(req_auth, m.auth, 16);
	uint8_t peer[16], auth_ch[16];
	memcpy(peer, rs->val + 2, 16);
	memcpy(auth_ch, ch->val, 16);
	dec_ok(rad_f10, sizeof rad_f10);
	const struct radius_attr *ok = radius_find_vsa(&m, RADIUS_VENDOR_MICROSOFT, MS_CHAP2_SUCCESS);
	ck_assert_ptr_nonnull(ok);
	ck_assert_uint_eq(ok->val[0], 1);
	ck_assert_int_eq(mschap2_check_authenticator_response("labpass", 7, nt, peer, auth_ch,
	                 "labuser", 7, (const char *)ok->val + 1, ok->vlen - 1), 1);
	/* the MPPE keys FreeRADIUS sent are the RFC 3079 master keys (server view) */
	uint8_t send[16], recv[16], k[64];
	ck_assert_int_eq(mppe_chapv2_keys("labpass", 7, nt, 16, true, send, recv), 0);
	const struct radius_attr *sk = radius_find_vsa(&m, RADIUS_VENDOR_MICROSOFT, MS_MPPE_SEND_KEY);
	const struct radius_attr *rk = radius_find_vsa(&m, RADIUS_VENDOR_MICROSOFT, MS_MPPE_RECV_KEY);
	ck_assert_int_eq(radius_ms_mppe_key_decrypt(sk->val, sk->vlen, SECRET, req_auth, k,
	                                            sizeof k), 16);
	ck_assert_mem_eq(k, send, 16);
	ck_assert_int_eq(radius_ms_mppe_key_decrypt(rk->val, rk->vlen, SECRET, req_auth, k,
	                                            sizeof k), 16);
	ck_assert_mem_eq(k, recv, 16);
	/* wrong secret: garbage key length or different bytes */
	int n = radius_ms_mppe_key_decrypt(sk->val, sk->vlen, (const uint8_t *)"x", 1, req_auth,
	                                   k, sizeof k);
	ck_assert(n != 16 || memcmp(k, send, 16) != 0);
	ck_assert_int_eq(radius_ms_mppe_key_decrypt(sk->val, 17, SECRET, req_auth, k, sizeof k), -1);
	/* the encryption is its inverse: FreeRADIUS's own bytes again from its salt */
	uint8_t enc[64];
	ck_assert_uint_eq(radius_ms_mppe_key_encrypt(send, 16, sk->val, SECRET, req_auth, enc,
	                                             sizeof enc), sk->vlen);
	ck_assert_mem_eq(enc, sk->val, sk->vlen);
	ck_assert_uint_eq(radius_ms_mppe_key_encrypt(recv, 16, rk->val, SECRET, req_auth, enc,
	                                             sizeof enc), rk->vlen);
	ck_assert_mem_eq(enc, rk->val, rk->vlen);
	static const uint8_t salt0[2] = { 0x01, 0x02 }; /* the top bit is set on the way out */
	ck_assert_uint_eq(radius_ms_mppe_key_encrypt(send, 16, salt0, SECRET, req_auth, enc,
	                                             sizeof enc), 34);
	ck_assert_uint_eq(enc[0], 0x81);
	ck_assert_int_eq(radius_ms_mppe_key_decrypt(enc, 34, SECRET, req_auth, k, sizeof k), 16);
	ck_assert_mem_eq(k, send, 16);
	ck_assert_uint_eq(radius_ms_mppe_key_encrypt(send, 16, salt0, SECRET, req_auth, enc, 33), 0);
	j = radius_to_json(&m);
	json_t *et = json_array_get(json_object_get(j, "attributes"), 8);
	ck_assert_str_eq(json_string_value(json_object_get(et, "name")),
	                 "MS-MPPE-Encryption-Types");
	ck_assert_int_eq(json_integer_value(json_object_get(et, "value_num")), 6);
	json_decref(j);
}
END_TEST

START_TEST(mschap_error)
{
	/* tshark frame 12: Access-Reject id 225, Reply-Message, MS-CHAP-Error
	 * "\001E=691 R=1 C=5028521ba36574824d44594064e4b4f5 V=3 M=Authentication rejected" */
	dec_ok(rad_f12, sizeof rad_f12);
	ck_assert_uint_eq(m.code, RADIUS_ACCESS_REJECT);
	ck_assert_uint_eq(m.id, 225);
	ck_assert_str_eq(summary(), "RADIUS Access-Reject id 225 [Reply-Message=\"vnet lab: "
	                 "welcome labuser\" MS-CHAP-Error=\"E=691 R=1 "
	                 "C=5028521ba36574824d44594064e4b4f5 V=3 M=Authentication rejected\"]");
	json_t *j = radius_to_json(&m);
	json_t *e = json_object_get(json_array_get(json_object_get(j, "attributes"), 1),
	                            "mschap_error");
	ck_assert_int_eq(json_integer_value(json_object_get(e, "error")), 691);
	ck_assert_int_eq(json_integer_value(json_object_get(e, "retry")), 1);
	ck_assert_str_eq(json_string_value(json_object_get(e, "error_name")),
	                 "authentication failure");
	ck_assert_str_eq(json_string_value(json_object_get(j, "code")), "Access-Reject");
	json_decref(j);
}
END_TEST

START_TEST(mschapv1_and_chap)
{
	/* tshark frame 7: MS-CHAP-Challenge ac84ef315738e00e, MS-CHAP-Response (flags 1) */
	dec_ok(rad_f7, sizeof rad_f7);
	const struct radius_attr *ch = radius_find_vsa(&m, RADIUS_VENDOR_MICROSOFT, MS_CHAP_CHALLENGE);
	const struct radius_attr *rs = radius_find_vsa(&m, RADIUS_VENDOR_MICROSOFT, MS_CHAP_RESPONSE);
	ck_assert_uint_eq(ch->vlen, 8);
	ck_assert_uint_eq(rs->vlen, 50);
	ck_assert_uint_eq(rs->val[1], 1);
	uint8_t nt[24];
	ck_assert_int_eq(mschap1_nt_response(ch->val, "labpass", 7, nt), 0);
	ck_assert_mem_eq(nt, rs->val + 26, 24);
	/* frame 8 (the Accept): MS-CHAP-MPPE-Keys hidden like User-Password (RFC 2548
	 * 2.4.1) holds the 8-byte LM key then the NT key, HashNtPasswordHash(password) */
	uint8_t req_auth[16];
	memcpy(req_auth, m.auth, 16);
	dec_ok(rad_f8, sizeof rad_f8);
	const struct radius_attr *mk = radius_find_vsa(&m, RADIUS_VENDOR_MICROSOFT, MS_CHAP_MPPE_KEYS);
	ck_assert_ptr_nonnull(mk);
	ck_assert_uint_eq(mk->vlen, 32);
	uint8_t keys[32], h[16], hh[16];
	ck_assert_int_ge(radius_unhide_password(mk->val, mk->vlen, SECRET, req_auth, keys), 24);
	ck_assert_int_eq(mschap_nt_password_hash("labpass", 7, h), 0);
	ck_assert_int_eq(mschap_hash_nt_password_hash(h, hh), 0);
	ck_assert_mem_eq(keys + 8, hh, 16);
	/* frame 5: CHAP-Password ident + MD5(ident, secret, challenge = request authenticator) */
	dec_ok(rad_f5, sizeof rad_f5);
	const struct radius_attr *cp = radius_find(&m, RADIUS_ATTR_CHAP_PASSWORD);
	ck_assert_uint_eq(cp->vlen, 17);
	uint8_t md[16];
	chap_md5_response(cp->val[0], (const uint8_t *)"labpass", 7, m.auth, 16, md);
	ck_assert_mem_eq(md, cp->val + 1, 16);
}
END_TEST

START_TEST(accounting)
{
	/* tshark frame 15: Accounting-Request id 112, Acct-Status-Type Stop (2),
	 * Acct-Session-Id vnet-0001, Acct-Session-Time 42, Input 1234, Output 5678,
	 * Terminate-Cause User-Request (1) */
	dec_ok(rad_f15, sizeof rad_f15);
	ck_assert_uint_eq(m.code, RADIUS_ACCOUNTING_REQUEST);
	ck_assert_uint_eq(m.nattrs, 9);
	ck_assert_str_eq(summary(), "RADIUS Accounting-Request id 112 [User-Name=\"labuser\" "
	                 "Acct-Status-Type=Stop Acct-Session-Id=\"vnet-0001\" "
	                 "NAS-IP-Address=127.0.0.1 Framed-IP-Address=10.200.0.10 "
	                 "Acct-Session-Time=42 Acct-Input-Octets=1234 Acct-Output-Octets=5678 "
	                 "Acct-Terminate-Cause=User-Request]");
	dec_ok(rad_f16, sizeof rad_f16);
	ck_assert_uint_eq(m.code, RADIUS_ACCOUNTING_RESPONSE);
	ck_assert_uint_eq(m.nattrs, 0);
	ck_assert_str_eq(summary(), "RADIUS Accounting-Response id 112 []");
}
END_TEST

START_TEST(eap_over_radius)
{
	/* tshark frame 1: Access-Request id 141, EAP-Message l=14: Response id 210,
	 * Identity labuser */
	dec_ok(eap_f1, sizeof eap_f1);
	ck_assert_uint_eq(m.id, 141);
	ck_assert_str_eq(summary(), "RADIUS Access-Request id 141 [User-Name=\"labuser\" "
	                 "Message-Authenticator=0x0a5616aa9fde4e76660edca52d1e590b NAS-Port=0 "
	                 "EAP-Message=EAP Response id 210 Identity \"labuser\"]");
	ck_assert_int_eq(radius_verify_msg_auth(eap_f1, sizeof eap_f1, NULL, SECRET), 1);
	/* frame 2: Access-Challenge, EAP Request id 211 MD5-Challenge value 0f9d20c6..., State */
	dec_ok(eap_f2, sizeof eap_f2);
	ck_assert_uint_eq(m.code, RADIUS_ACCESS_CHALLENGE);
	uint8_t eap[256];
	size_t n = radius_eap_message(&m, eap, sizeof eap);
	ck_assert_uint_eq(n, 22);
	struct ppp_eap e;
	ck_assert_int_eq(ppp_eap_decode(eap, n, &e, &err), 0);
	ck_assert_uint_eq(e.code, EAP_REQUEST);
	ck_assert_uint_eq(e.id, 211);
	ck_assert_uint_eq(e.type, EAP_TYPE_MD5);
	ck_assert_uint_eq(e.value_len, 16);
	uint8_t chal[16];
	memcpy(chal, e.value, 16);
	json_t *j = radius_to_json(&m);
	json_t *ej = json_object_get(j, "eap");
	ck_assert_str_eq(json_string_value(json_object_get(ej, "type")), "MD5-Challenge");
	ck_assert_str_eq(json_string_value(json_object_get(ej, "value")),
	                 "0f9d20c696f4916931a5ace1d3146a5d");
	json_decref(j);
	ck_assert_int_eq(radius_verify_auth(eap_f2, sizeof eap_f2, eap_f1 + 4, SECRET), 1);
	ck_assert_int_eq(radius_verify_msg_auth(eap_f2, sizeof eap_f2, eap_f1 + 4, SECRET), 1);
	/* frame 3: the peer's MD5 response is MD5(id || password || challenge) (RFC 3748 5.4) */
	dec_ok(eap_f3, sizeof eap_f3);
	n = radius_eap_message(&m, eap, sizeof eap);
	ck_assert_int_eq(ppp_eap_decode(eap, n, &e, &err), 0);
	ck_assert_uint_eq(e.code, EAP_RESPONSE);
	uint8_t md[16];
	chap_md5_response(211, (const uint8_t *)"labpass", 7, chal, 16, md);
	ck_assert_mem_eq(md, e.value, 16);
	ck_assert_int_eq(radius_verify_msg_auth(eap_f3, sizeof eap_f3, NULL, SECRET), 1);
	/* frame 4: Access-Accept with EAP Success id 211 */
	dec_ok(eap_f4, sizeof eap_f4);
	ck_assert(strstr(summary(), "EAP-Message=EAP Success id 211 "));
	ck_assert_int_eq(radius_verify_auth(eap_f4, sizeof eap_f4, eap_f3 + 4, SECRET), 1);
	ck_assert_int_eq(radius_verify_msg_auth(eap_f4, sizeof eap_f4, eap_f3 + 4, SECRET), 1);

	/* an EAP packet split over two EAP-Message attributes is joined */
	uint8_t b[64];
	const uint8_t two[] = { 79, 6, 0x02, 0xd2, 0x00, 0x0c, 79, 10, 0x01, 'l', 'a', 'b', 'u',
	                        's', 'e', 'r' };
	memcpy(b, eap_f1, 20);
	memcpy(b + 20, two, sizeof two);
	b[2] = 0; b[3] = 20 + sizeof two;
	dec_ok(b, 20 + sizeof two);
	ck_assert_str_eq(summary(), "RADIUS Access-Request id 141 [EAP-Message=EAP Response id "
	                 "210 Identity \"labuser\" EAP-Message=(continued, 8 bytes)]");
	ck_assert_uint_eq(radius_eap_message(&m, eap, 11), 0);
	/* an EAP-Message that does not decode is shown as bytes */
	b[20 + 5] = 0x40;
	dec_ok(b, 20 + sizeof two);
	ck_assert(strstr(summary(), "EAP-Message=0x02d2"));
	/* an empty EAP-Message (length 2) is an EAP-Start (RFC 3579 3.1), not malformed */
	const uint8_t start[] = { 79, 2, 1, 7, 'l', 'a', 'b', 'u', 's' };
	memcpy(b + 20, start, sizeof start);
	b[2] = 0; b[3] = 20 + sizeof start;
	dec_ok(b, 20 + sizeof start);
	ck_assert_uint_eq(m.nattrs, 2);
	ck_assert_uint_eq(m.attrs[0].type, RADIUS_ATTR_EAP_MESSAGE);
	ck_assert_uint_eq(m.attrs[0].vlen, 0);
	ck_assert_uint_eq(radius_eap_message(&m, eap, sizeof eap), 0);
	/* other string attributes stay at least one octet */
	const uint8_t empty_class[] = { 25, 2 };
	memcpy(b + 20, empty_class, sizeof empty_class);
	b[3] = 20 + sizeof empty_class;
	ck_assert_int_eq(radius_decode(b, 20 + sizeof empty_class, &m, &err), -1);
}
END_TEST

START_TEST(typed_values)
{
	/* values typed by the attribute tables, first and last entries included */
	const uint8_t attrs[] = {
		101, 6, 0, 0, 0x01, 0x94,                        /* Error-Cause 404 */
		95, 18, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		97, 6, 0, 16, 0x20, 0x01,                        /* Framed-IPv6-Prefix */
		64, 6, 1, 0, 0, 1,                               /* Tunnel-Type tag 1 PPTP */
		66, 6, 2, 'a', 'b', 'c',                         /* Tunnel-Client-Endpoint */
		26, 12, 0, 0, 1, 0x37, 33, 6, 1, 2, 3, 4,        /* MS-ARAP-Challenge */
		26, 12, 0, 0, 1, 0x37, 9, 6, 0, 0, 1, 0x37,      /* MS-RAS-Vendor 311 */
	};
	uint8_t b[128];
	memcpy(b, rad_f1, 20);
	memcpy(b + 20, attrs, sizeof attrs);
	b[2] = 0; b[3] = (uint8_t)(20 + sizeof attrs);
	dec_ok(b, 20 + sizeof attrs);
	ck_assert_str_eq(summary(), "RADIUS Access-Request id 176 [Error-Cause=Invalid-Request "
	                 "NAS-IPv6-Address=2001:db8:0:0:0:0:0:1 Framed-IPv6-Prefix=2001:0:0:0:0:0:0:0/16 "
	                 "Tunnel-Type=1:PPTP Tunnel-Client-Endpoint=2:\"abc\" "
	                 "MS-ARAP-Challenge=0x01020304 MS-RAS-Vendor=Microsoft]");
	/* a wrong size for the last entries of both tables is caught */
	b[20 + 1] = 5; b[20 + 5] = 0;
	memset(&err, 0, sizeof err);
	ck_assert_int_eq(radius_decode(b, 20 + sizeof attrs, &m, &err), -1);
	const uint8_t ms1[] = { 26, 10, 0, 0, 1, 0x37, 1, 4, 0, 0 }; /* MS-CHAP-Response 2 bytes */
	memcpy(b + 20, ms1, sizeof ms1);
	b[3] = 20 + sizeof ms1;
	dec_fail(b, 20 + sizeof ms1, 26, "MS-CHAP-Response at offset 26: value length 2, expected 50");
}
END_TEST

START_TEST(truncations)
{
	for (size_t v = 0; v < NVECS; v++) {
		const struct vec *x = &vecs[v];
		for (size_t n = 0; n < x->len; n++) {
			memset(&err, 0, sizeof err);
			ck_assert_msg(radius_decode(x->p, n, &m, &err) == -1, "%s: prefix %zu decoded",
			              x->name, n);
			if (n < 20) {
				ck_assert_uint_eq(err.off, n);
				ck_assert(strstr(err.reason, "header truncated"));
			} else {
				ck_assert_uint_eq(err.off, 2);
				ck_assert(strstr(err.reason, "bytes in the datagram"));
			}
		}
		/* trailing bytes past Length are padding */
		uint8_t pad[4200];
		memcpy(pad, x->p, x->len);
		memset(pad + x->len, 0xee, 7);
		dec_ok(pad, x->len + 7);
		/* a Length that cuts inside an attribute */
		if (x->len > 22) {
			pad[2] = (uint8_t)((x->len - 1) >> 8);
			pad[3] = (uint8_t)(x->len - 1);
			memset(&err, 0, sizeof err);
			ck_assert_int_eq(radius_decode(pad, x->len, &m, &err), -1);
			ck_assert(strstr(err.reason, "runs past") || strstr(err.reason, "no length"));
		}
	}
}
END_TEST

START_TEST(malformed)
{
	uint8_t b[64];
	memcpy(b, rad_f1, 20);
	/* Length below 20 and above 4096 */
	b[2] = 0; b[3] = 19;
	dec_fail(b, 20, 2, "outside 20..4096");
	b[2] = 0x10; b[3] = 0x01;
	dec_fail(b, 20, 2, "outside 20..4096");
	/* attribute length 1, attribute past the end, integer of 3 bytes */
	const uint8_t a1[] = { 1, 1 };
	const uint8_t a2[] = { 1, 9, 'a' };
	const uint8_t a3[] = { 5, 5, 0, 0, 0 };
	const uint8_t a4[] = { 80, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	const uint8_t a5[] = { 26, 12, 0, 0, 1, 0x37, 2, 9, 1, 2, 3, 4 }; /* MS sub-attr too long */
	const uint8_t a6[] = { 26, 6, 0, 0, 1, 0x37 };
	const uint8_t a7[] = { 26, 14, 0, 0, 1, 0x37, 1, 8, 1, 2, 3, 4, 5, 6 }; /* MS-CHAP-Response 6 */
	const uint8_t a8[] = { 2, 10, 1, 2, 3, 4, 5, 6, 7, 8 }; /* User-Password 8 bytes */
	const struct { const uint8_t *a; size_t n; size_t off; const char *why; } cases[] = {
		{ a1, sizeof a1, 21, "length 1 < 2" },
		{ a2, sizeof a2, 21, "runs past the packet" },
		{ a3, sizeof a3, 20, "NAS-Port at offset 20: value length 3, expected 4" },
		{ a4, sizeof a4, 20, "Message-Authenticator" },
		{ a5, sizeof a5, 27, "runs past the attribute" },
		{ a6, sizeof a6, 20, "length 6 < 7" },
		{ a7, sizeof a7, 26, "MS-CHAP-Response" },
		{ a8, sizeof a8, 20, "User-Password" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memcpy(b, rad_f1, 20);
		memcpy(b + 20, cases[i].a, cases[i].n);
		size_t n = 20 + cases[i].n;
		b[2] = 0; b[3] = (uint8_t)n;
		dec_fail(b, n, cases[i].off, cases[i].why);
	}
	/* a vendor that does not use type/length sub-attributes is kept whole */
	const uint8_t op[] = { 26, 9, 0, 0, 0x99, 0x99, 0xde, 0xad, 0x01 };
	memcpy(b + 20, op, sizeof op);
	b[3] = 20 + sizeof op;
	dec_ok(b, 20 + sizeof op);
	ck_assert_uint_eq(m.nattrs, 1);
	ck_assert(m.attrs[0].vsa_opaque);
	ck_assert_uint_eq(m.attrs[0].vendor, 0x9999);
	ck_assert_uint_eq(m.attrs[0].vlen, 3);
	uint8_t out[64];
	ck_assert_uint_eq(radius_encode(&m, out, sizeof out), 20 + sizeof op);
	ck_assert_mem_eq(out, b, 20 + sizeof op);
	/* Vendor-Id 0 (no vendor) is kept whole even when its data looks like
	 * sub-attributes, and re-encodes as it came (a fuzzer find) */
	const uint8_t v0[] = { 26, 10, 0, 0, 0, 0, 1, 4, 'a', 'b' };
	memcpy(b, rad_f1, 20);
	memcpy(b + 20, v0, sizeof v0);
	b[2] = 0; b[3] = 20 + sizeof v0;
	dec_ok(b, 20 + sizeof v0);
	ck_assert_uint_eq(m.nattrs, 1);
	ck_assert(m.attrs[0].vsa_opaque);
	ck_assert_uint_eq(radius_encode(&m, out, sizeof out), 20 + sizeof v0);
	ck_assert_mem_eq(out, b, 20 + sizeof v0);
	/* too many attributes */
	uint8_t big[20 + 2 * 97];
	memcpy(big, rad_f1, 20);
	for (size_t i = 0; i < 97; i++) { big[20 + 2 * i] = 18; big[21 + 2 * i] = 2; }
	big[2] = (uint8_t)(sizeof big >> 8); big[3] = (uint8_t)sizeof big;
	/* empty Reply-Message values are themselves invalid (text needs 1 byte) */
	dec_fail(big, sizeof big, 20, "Reply-Message");
	for (size_t i = 0; i < 97; i++) { big[20 + 2 * i] = 99 + 100; }
	dec_fail(big, sizeof big, 20 + 2 * 96, "more than 96");
}
END_TEST

START_TEST(roundtrip)
{
	uint8_t out[4096];
	for (size_t v = 0; v < NVECS; v++) {
		const struct vec *x = &vecs[v];
		dec_ok(x->p, x->len);
		size_t n = radius_encode(&m, out, sizeof out);
		ck_assert_msg(n == x->len, "%s: %zu of %zu", x->name, n, x->len);
		ck_assert_mem_eq(out, x->p, n);
		for (size_t cap = 0; cap < x->len; cap++)
			ck_assert_uint_eq(radius_encode(&m, out, cap), 0);
		json_t *j = radius_to_json(&m);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "length")), (json_int_t)x->len);
		json_decref(j);
	}
	/* two Microsoft sub-attributes in one Vendor-Specific stay together */
	const uint8_t two[] = { 0x02, 0x07, 0x00, 0x26, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	                        0, 0, 0, 26, 18, 0, 0, 1, 0x37, 7, 6, 0, 0, 0, 2, 8, 6, 0, 0, 0,
	                        4 };
	dec_ok(two, sizeof two);
	ck_assert_uint_eq(m.nattrs, 2);
	ck_assert(!m.attrs[0].vsa_cont);
	ck_assert(m.attrs[1].vsa_cont);
	ck_assert_str_eq(summary(), "RADIUS Access-Accept id 7 [MS-MPPE-Encryption-Policy="
	                 "Encryption-Required MS-MPPE-Encryption-Types=128-bit]");
	ck_assert_uint_eq(radius_encode(&m, out, sizeof out), sizeof two);
	ck_assert_mem_eq(out, two, sizeof two);
}
END_TEST

START_TEST(build_and_sign)
{
	/* an Access-Request with a hidden password and a Message-Authenticator, then the
	 * server's Access-Reject with MS-CHAP-Error, both signed and verified */
	static const uint8_t ra[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	uint8_t hid[32], zero16[16] = { 0 };
	size_t hl = radius_hide_password((const uint8_t *)"s3cret", 6, SECRET, ra, hid, sizeof hid);
	ck_assert_uint_eq(hl, 16);
	struct radius_msg q;
	memset(&q, 0, sizeof q);
	q.code = RADIUS_ACCESS_REQUEST;
	q.id = 9;
	q.auth = ra;
	q.attrs[0] = (struct radius_attr){ .type = 1, .val = (const uint8_t *)"bob", .vlen = 3 };
	q.attrs[1] = (struct radius_attr){ .type = 2, .val = hid, .vlen = hl };
	q.attrs[2] = (struct radius_attr){ .type = 80, .val = zero16, .vlen = 16 };
	q.nattrs = 3;
	uint8_t req[256];
	size_t n = radius_encode(&q, req, sizeof req);
	ck_assert_uint_eq(n, 20 + 5 + 18 + 18);
	ck_assert_int_eq(radius_sign(req, n, NULL, SECRET), 0);
	ck_assert_mem_eq(req + 4, ra, 16);
	ck_assert_int_eq(radius_verify_msg_auth(req, n, NULL, SECRET), 1);
	dec_ok(req, n);
	uint8_t pw[32];
	ck_assert_int_eq(radius_unhide_password(radius_find(&m, 2)->val, 16, SECRET, m.auth, pw), 6);
	ck_assert_mem_eq(pw, "s3cret", 6);

	const char *txt = "\x01" "E=691 R=0 C=00112233445566778899aabbccddeeff V=3 M=bad";
	struct radius_msg r;
	memset(&r, 0, sizeof r);
	r.code = RADIUS_ACCESS_REJECT;
	r.id = 9;
	r.attrs[0] = (struct radius_attr){ .type = 1, .val = (const uint8_t *)"bob", .vlen = 3 };
	r.attrs[1] = (struct radius_attr){ .type = 26, .vendor = 311, .vtype = MS_CHAP_ERROR,
	                                   .val = (const uint8_t *)txt, .vlen = strlen(txt) };
	r.attrs[2] = (struct radius_attr){ .type = 80, .val = zero16, .vlen = 16 };
	r.nattrs = 3;
	uint8_t resp[256];
	n = radius_encode(&r, resp, sizeof resp);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(radius_sign(resp, n, NULL, SECRET), -1); /* needs the request's */
	ck_assert_int_eq(radius_sign(resp, n, ra, SECRET), 0);
	ck_assert_int_eq(radius_verify_auth(resp, n, ra, SECRET), 1);
	ck_assert_int_eq(radius_verify_msg_auth(resp, n, ra, SECRET), 1);
	ck_assert_int_eq(radius_verify_msg_auth(resp, n, zero16, SECRET), 0);
	dec_ok(resp, n);
	ck_assert(strstr(summary(), "RADIUS Access-Reject id 9 [User-Name=\"bob\" "
	                 "MS-CHAP-Error=\"E=691 R=0 C=00112233445566778899aabbccddeeff V=3 "
	                 "M=bad\" Message-Authenticator=0x") == summary());

	/* Accounting-Request and its response */
	static const uint8_t st[4] = { 0, 0, 0, 1 };
	struct radius_msg acc;
	memset(&acc, 0, sizeof acc);
	acc.code = RADIUS_ACCOUNTING_REQUEST;
	acc.id = 10;
	acc.attrs[0] = (struct radius_attr){ .type = 40, .val = st, .vlen = 4 };
	acc.nattrs = 1;
	n = radius_encode(&acc, req, sizeof req);
	ck_assert_int_eq(radius_sign(req, n, NULL, SECRET), 0);
	ck_assert_int_eq(radius_verify_auth(req, n, NULL, SECRET), 1);
	struct radius_msg ar;
	memset(&ar, 0, sizeof ar);
	ar.code = RADIUS_ACCOUNTING_RESPONSE;
	ar.id = 10;
	size_t rn = radius_encode(&ar, resp, sizeof resp);
	ck_assert_uint_eq(rn, 20);
	ck_assert_int_eq(radius_sign(resp, rn, req + 4, SECRET), 0);
	ck_assert_int_eq(radius_verify_auth(resp, rn, req + 4, SECRET), 1);

	/* password limits */
	uint8_t longpw[129], hbuf[160];
	memset(longpw, 'p', sizeof longpw);
	ck_assert_uint_eq(radius_hide_password(longpw, 128, SECRET, ra, hbuf, sizeof hbuf), 128);
	ck_assert_uint_eq(radius_hide_password(longpw, 129, SECRET, ra, hbuf, sizeof hbuf), 0);
	ck_assert_uint_eq(radius_hide_password(longpw, 20, SECRET, ra, hbuf, 16), 0);
	ck_assert_int_eq(radius_unhide_password(hbuf, 15, SECRET, ra, pw), -1);
	ck_assert_int_eq(radius_unhide_password(hbuf, 144, SECRET, ra, pw), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("radius");
	TCase *tc = tcase_create("decode");
	tcase_add_test(tc, access_request_pap);
	tcase_add_test(tc, response_authenticators);
	tcase_add_test(tc, mschapv2_exchange);
	tcase_add_test(tc, mschap_error);
	tcase_add_test(tc, mschapv1_and_chap);
	tcase_add_test(tc, accounting);
	tcase_add_test(tc, eap_over_radius);
	tcase_add_test(tc, typed_values);
	tcase_add_test(tc, truncations);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, roundtrip);
	tcase_add_test(tc, build_and_sign);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
