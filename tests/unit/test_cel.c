// SPDX-License-Identifier: GPL-2.0-only
/*
 * One CEL-JSON record (cel.h), byte for byte: the members in CEL's order,
 * digests and template data in lowercase hex, and a template name whose
 * bytes are hostile (a quote, a backslash, a newline, a byte that is not
 * UTF-8) escaped so that the text stays valid JSON and ASCII.
 */
#include "cel.h"
#include "check.h"

int main(void)
{
	static const uint8_t data[] = { 0x00, 0x22, 0x5c, 0x0a, 0xff };
	struct template_entry e = { .pcr = 10, .data = data, .data_len = sizeof(data) };
	struct tpm_digest d[2] = {};
	enum cel_framing framing;
	struct buf out = {};
	char *text;

	d[0].alg = hashalg_by_name("sha1", 4);
	d[1].alg = hashalg_by_name("sha256", 6);
	memset(d[0].value, 0xab, 20);
	memset(d[1].value, 0x01, 32);
	strcpy(e.name, "ima-ng");
	CHECK_EQ(cel_format_record(&out, 7, &e, d, 2), 0, "a record is formatted");
	CHECK_EQ(buf_put(&out, "", 1), 0, "terminated");
	CHECK_STR((char *)out.p,
		  "{\"recnum\":7,\"pcr\":10,\"digests\":["
		  "{\"hashAlg\":\"sha1\",\"digest\":\"abababababababababababababababababababab\"},"
		  "{\"hashAlg\":\"sha256\",\"digest\":"
		  "\"0101010101010101010101010101010101010101010101010101010101010101\"}],"
		  "\"content_type\":\"ima_template\","
		  "\"content\":{\"template_name\":\"ima-ng\",\"template_data\":\"00225c0aff\"}}",
		  "the record: members in order, hex digests and data");

	out.len = 0;
	strcpy(e.name, "a\"b\\c\nd\xff\x7f");
	CHECK_EQ(cel_format_record(&out, 0, &e, d, 0), 0, "a hostile name is formatted");
	CHECK_EQ(buf_put(&out, "", 1), 0, "terminated");
	text = strstr((char *)out.p, "\"template_name\":");
	CHECK_STR(text,
		  "\"template_name\":\"a\\\"b\\\\c\\u000ad\\u00ff\\u007f\",\"template_data\":"
		  "\"00225c0aff\"}}",
		  "quote and backslash escaped, other bytes as \\u00XX");
	CHECK(strstr((char *)out.p, "\"digests\":[]") != NULL, "no bank: an empty digests array",
	      "%s", (char *)out.p);

	CHECK_EQ(cel_framing_parse("cel-json", &framing), 0, "cel-json is a format");
	CHECK_EQ(framing, CEL_JSON_SEQ, "a JSON text sequence");
	CHECK_EQ(cel_framing_parse("cel-json-array", &framing), 0, "cel-json-array is a format");
	CHECK_EQ(framing, CEL_JSON_ARRAY, "an array");
	CHECK_EQ(cel_framing_parse("cel", &framing), -EINVAL, "cel is not");
	buf_free(&out);
	return CHECK_DONE();
}
