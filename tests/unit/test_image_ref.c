/* Image references: what names an image, what is refused and why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "image_ref.h"

#define HEX "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_kinds(void **state)
{
	(void)state;
	struct image_ref r;
	struct error e;
	assert_int_equal(image_ref_parse("f", "host", &r, &e), 0);
	assert_int_equal(r.kind, IMAGE_REF_HOST);
	assert_int_equal(image_ref_parse("f", "default", &r, &e), 0);
	assert_int_equal(r.kind, IMAGE_REF_DEFAULT);
	assert_int_equal(image_ref_parse("f", "sha256:" HEX, &r, &e), 0);
	assert_int_equal(r.kind, IMAGE_REF_DIGEST);
	assert_string_equal(r.digest, HEX);
	assert_int_equal(image_ref_parse("f", "python:bookworm", &r, &e), 0);
	assert_int_equal(r.kind, IMAGE_REF_TAG);
	assert_string_equal(r.name, "python");
	assert_string_equal(r.tag, "bookworm");
	assert_int_equal(image_ref_parse("f", "my.img_2-x:V1.2_rc-3", &r, &e),
			 0);
	assert_string_equal(r.name, "my.img_2-x");
	assert_string_equal(r.tag, "V1.2_rc-3");
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"python",
		"python:",
		":tag",
		"../x:y",
		"a/b:c",
		"x:a/b",
		"x:..",
		"x:.y",
		"x:-y",
		".x:y",
		"-x:y",
		"_x:y",
		"Python:x",
		"x:y:z",
		"x:y z",
		"x:y\n",
		"sha256:",
		"sha256:abc",
		"sha256:" HEX "0",
		"sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef012345"
		"6789abcdef",
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxx:y",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct image_ref r;
		struct error e = { 0 };
		assert_int_equal(
			image_ref_parse("options.image", bad[i], &r, &e),
			-EINVAL);
		assert_int_equal(e.kind, ERR_INVALID_ARGUMENT);
		assert_non_null(strstr(e.message, "options.image"));
	}
}

static void test_moving_tags(void **state)
{
	(void)state;
	static const char *const moving[] = { "latest", "lts", "python:latest",
					      "python:LTS", "x:Latest" };
	for (size_t i = 0; i < sizeof(moving) / sizeof(moving[0]); i++) {
		struct image_ref r;
		struct error e = { 0 };
		assert_int_equal(image_ref_parse("f", moving[i], &r, &e),
				 -EINVAL);
		assert_non_null(strstr(e.message, "moving tag"));
		assert_non_null(strstr(e.message, "digest"));
	}
	/* A tag that merely contains the word is pinned. */
	struct image_ref r;
	struct error e;
	assert_int_equal(image_ref_parse("f", "python:latest-2026", &r, &e), 0);
}

static void test_hex(void **state)
{
	(void)state;
	assert_true(image_hex_valid(HEX));
	assert_false(image_hex_valid(HEX "0"));
	assert_false(image_hex_valid("0123"));
	assert_false(image_hex_valid(""));
	assert_false(image_hex_valid("../../etc/passwd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_moving_tags),
		cmocka_unit_test(test_hex),
	};
	return cmocka_run_group_tests_name("image_ref", tests, NULL, NULL);
}
