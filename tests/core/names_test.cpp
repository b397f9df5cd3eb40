#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <maestro/core/names.hpp>

namespace core = maestro::core;

namespace {

// Ids a hostile or careless source may hold.
std::vector<std::string> hostile_ids() {
  std::vector<std::string> ids = {".",           "..",
                                  "...",         "/",
                                  "a/b",         "a_b",
                                  "a%2Fb",       "%",
                                  "%%",          "%2",
                                  "_refresh",    "_tests",
                                  "_sequential", "/../../etc",
                                  "../../G",     "-rf",
                                  " leading",    "trailing ",
                                  "tab\there",   "new\nline",
                                  "\x1b[31m",    std::string("nul\0in", 6),
                                  "caf\xc3\xa9", "\xff\xfe",
                                  ".hidden",     "x.log",
                                  "A",           "a"};
  std::mt19937 rng(20261127);
  for (int n = 0; n < 2000; ++n) {
    std::string id;
    const auto size = 1 + rng() % 12;
    for (std::size_t k = 0; k < size; ++k) {
      id += static_cast<char>(rng() % 256);
    }
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(names)

BOOST_AUTO_TEST_CASE(plain_ids_are_unchanged) {
  BOOST_TEST(core::encode_file_name("bd-a1b2.3") == "bd-a1b2.3");
  BOOST_TEST(core::group_dir_name("_sequential.t-1") == "_sequential.t-1");
  BOOST_TEST(core::log_file_name("api-1") == "api-1.log");
}

BOOST_AUTO_TEST_CASE(encoded_names_are_safe_and_reversible) {
  std::set<std::string> logs;
  std::set<std::string> dirs;
  const auto ids = hostile_ids();
  std::set<std::string> distinct(ids.begin(), ids.end());
  for (const auto& id : distinct) {
    for (const bool reserve : {false, true}) {
      const auto name = core::encode_file_name(id, reserve);
      BOOST_TEST(name.find('/') == std::string::npos);
      BOOST_TEST(name.find('\0') == std::string::npos);
      BOOST_TEST(name != ".");
      BOOST_TEST(name != "..");
      BOOST_TEST(!name.empty());
      BOOST_TEST(name.front() != '.');
      if (reserve) {
        BOOST_TEST(name.front() != '_');
      }
      for (const char c : name) {
        BOOST_TEST(static_cast<unsigned char>(c) >= 0x20);
      }
      const auto back = core::decode_file_name(name);
      BOOST_REQUIRE(back.has_value());
      BOOST_TEST(*back == id);
    }
    logs.insert(core::log_file_name(id));
    dirs.insert(core::group_dir_name(id));
  }
  // Injective: as many names as ids.
  BOOST_TEST(logs.size() == distinct.size());
  BOOST_TEST(dirs.size() == distinct.size());
  BOOST_TEST(!logs.contains("_refresh.log"));
  BOOST_TEST(!logs.contains("_tests.log"));
  BOOST_TEST(core::log_file_name("a/b") != core::log_file_name("a_b"));
}

BOOST_AUTO_TEST_CASE(what_is_no_encoding_is_refused) {
  BOOST_TEST(!core::decode_file_name("%"));
  BOOST_TEST(!core::decode_file_name("%2"));
  BOOST_TEST(!core::decode_file_name("%2f"));
  BOOST_TEST(!core::decode_file_name(".x"));
  BOOST_TEST(!core::decode_file_name("a b"));
  BOOST_TEST(core::decode_file_name("%2E%2E").value() == "..");
}

// What `git check-ref-format` refuses in one component (its rules, for
// the bytes the encoding can leave).
bool valid_ref_component(const std::string& c) {
  if (c.empty() || c.front() == '.' || c.back() == '.' || c.ends_with(".lock") ||
      c.find("..") != std::string::npos || c.find("@{") != std::string::npos) {
    return false;
  }
  return std::all_of(c.begin(), c.end(), [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return u > 0x20 && u != 0x7f &&
           std::string_view(" ~^:?*[\\/").find(ch) == std::string_view::npos;
  });
}

BOOST_AUTO_TEST_CASE(ref_components_are_valid_for_git_and_injective) {
  BOOST_TEST(core::encode_ref_component("bd-a1b2.3") == "bd-a1b2.3");
  BOOST_TEST(core::encode_ref_component("a..b") == "a.%2Eb");
  BOOST_TEST(core::encode_ref_component("x~1") == "x%7E1");
  BOOST_TEST(core::encode_ref_component("sp ace") == "sp%20ace");
  BOOST_TEST(core::encode_ref_component("-x") == "-x");
  BOOST_TEST(core::encode_ref_component(".x") == "%2Ex");
  BOOST_TEST(core::encode_ref_component("x.") == "x%2E");
  BOOST_TEST(core::encode_ref_component("e.lock") == "e%2Elock");
  BOOST_TEST(core::encode_ref_component("a/b") == "a%2Fb");
  BOOST_TEST(core::encode_ref_component("@{u}") == "%40%7Bu%7D");
  BOOST_TEST(core::encode_ref_component("") == "%");
  const std::vector<std::string> ids{"a..b",   "a.%2Eb",   "a.b",         "a%2Eb", "x~1", "x%7E1",
                                     "sp ace", "-x",       ".x",          "x.",    "",    "%",
                                     "e.lock", "e%2Elock", "caf\xc3\xa9", "a\nb",  "..",  "."};
  std::set<std::string> seen;
  for (const auto& id : ids) {
    const auto c = core::encode_ref_component(id);
    BOOST_TEST(valid_ref_component(c), id << " -> " << c);
    // An attempt's component `<T>.<N>` is valid too.
    BOOST_TEST(valid_ref_component(c + ".12"), id << " -> " << c << ".12");
    BOOST_TEST(seen.insert(c).second, "two ids encode to " << c);
  }
  // Too long for a file name: a prefix and a hash, still unique.
  const std::string long_a(300, 'a');
  const std::string long_b = std::string(299, 'a') + "b";
  const auto ea = core::encode_ref_component(long_a);
  const auto eb = core::encode_ref_component(long_b);
  BOOST_TEST(ea.size() <= core::max_ref_component);
  BOOST_TEST(ea != eb);
  BOOST_TEST(valid_ref_component(ea));
  BOOST_TEST(valid_ref_component(core::encode_ref_component(std::string(250, '.'))));
}

BOOST_AUTO_TEST_CASE(printable_escapes_controls) {
  BOOST_TEST(core::printable("plain caf\xc3\xa9") == "plain caf\xc3\xa9");
  BOOST_TEST(core::printable("a\nb\tc\rd") == "a\\nb\\tc\\rd");
  BOOST_TEST(core::printable("\x1b[31mred") == "\\x1B[31mred");
  BOOST_TEST(core::printable(std::string("n\0l", 3)) == "n\\x00l");
  BOOST_TEST(core::printable("\x7f") == "\\x7F");
  BOOST_TEST(core::printable("c1 \xc2\x9b") == "c1 \\u009B");
  BOOST_TEST(core::printable("back\\slash") == "back\\\\slash");
}

BOOST_AUTO_TEST_SUITE_END()
