// SPDX-License-Identifier: LGPL-2.1-or-later
#include "safetensors.h"

#include "utf8.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <stdexcept>
#include <sstream>

namespace neuro {

namespace {

/* A header larger than this is certainly not one of ours (the biggest model
 * has ~100 tensors, a few kB of JSON); refusing it avoids huge allocations on
 * a corrupt length field. */
constexpr uint64_t kMaxHeaderBytes = 100u * 1024u * 1024u;

/* The message quotes the path, names and parser text from the file: made
 * valid UTF-8 so that callers (a Python application's parse_error()) can
 * decode it. */
[[noreturn]] void
fail (const std::string &path, const std::string &what)
{
  throw ModelError (valid_utf8 ("model file '" + path + "': " + what));
}

struct DTypeName {
  DType dtype;
  const char *name;
  size_t size;
};

constexpr DTypeName kDTypes[] = {
  {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
  {DType::I64, "I64", 8}, {DType::I32, "I32", 4}, {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
  {DType::U8, "U8", 1}, {DType::BOOL, "BOOL", 1},
};

bool
parse_dtype (const std::string &name, DType *out)
{
  for (const auto &d : kDTypes)
    if (name == d.name) {
      *out = d.dtype;
      return true;
    }
  return false;
}

uint64_t
read_le64 (const unsigned char *p)
{
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

template <typename T>
T
load_le (const unsigned char *p)
{
  T v;
  std::memcpy (&v, p, sizeof v);  /* the project only targets little-endian hosts */
  return v;
}

float
half_to_float (uint16_t h)
{
  const uint32_t sign = (h >> 15) & 1u, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  float v;
  if (exp == 0)
    v = std::ldexp (static_cast<float> (mant), -24);
  else if (exp == 31)
    v = mant ? std::numeric_limits<float>::quiet_NaN () : std::numeric_limits<float>::infinity ();
  else
    v = std::ldexp (static_cast<float> (mant | 0x400u), static_cast<int> (exp) - 25);
  return sign ? -v : v;
}

float
bf16_to_float (uint16_t b)
{
  const uint32_t bits = static_cast<uint32_t> (b) << 16;
  float v;
  std::memcpy (&v, &bits, sizeof v);
  return v;
}

std::vector<unsigned char>
read_whole_file (const std::string &path)
{
  std::ifstream in (path, std::ios::binary | std::ios::ate);
  if (!in)
    fail (path, std::string ("cannot open: ") + std::strerror (errno));
  const std::streamoff size = in.tellg ();
  if (size < 0)
    fail (path, "cannot determine the file size");
  std::vector<unsigned char> bytes (static_cast<size_t> (size));
  in.seekg (0);
  if (size > 0 && !in.read (reinterpret_cast<char *> (bytes.data ()), size))
    fail (path, "read error");
  return bytes;
}

/* Multiplies the dimensions, refusing negative sizes and overflow. */
bool
checked_numel (const Shape &shape, size_t elem_size, size_t *bytes)
{
  uint64_t n = elem_size;
  for (int64_t d : shape) {
    if (d < 0)
      return false;
    if (d != 0 && n > std::numeric_limits<uint64_t>::max () / static_cast<uint64_t> (d))
      return false;
    n *= static_cast<uint64_t> (d);
  }
  if (n > std::numeric_limits<size_t>::max ())
    return false;
  *bytes = static_cast<size_t> (n);
  return true;
}

TensorEntry
parse_entry (const std::string &path, const std::string &name, const nlohmann::json &j, size_t data_size)
{
  if (!j.is_object ())
    fail (path, "header entry '" + name + "' is not an object");
  TensorEntry e;
  e.name = name;
  if (!j.contains ("dtype") || !j["dtype"].is_string ())
    fail (path, "tensor '" + name + "' has no dtype string");
  if (!parse_dtype (j["dtype"].get<std::string> (), &e.dtype))
    fail (path, "tensor '" + name + "' has unsupported dtype '" + j["dtype"].get<std::string> () + "'");
  if (!j.contains ("shape") || !j["shape"].is_array ())
    fail (path, "tensor '" + name + "' has no shape array");
  for (const auto &d : j["shape"]) {
    if (!d.is_number_integer () || d.get<int64_t> () < 0)
      fail (path, "tensor '" + name + "' has an invalid dimension in its shape");
    e.shape.push_back (d.get<int64_t> ());
  }
  const auto &off = j.contains ("data_offsets") ? j["data_offsets"] : nlohmann::json ();
  if (!off.is_array () || off.size () != 2 || !off[0].is_number_unsigned () || !off[1].is_number_unsigned ())
    fail (path, "tensor '" + name + "' needs data_offsets [begin, end] of non-negative integers");
  const uint64_t begin = off[0].get<uint64_t> (), end = off[1].get<uint64_t> ();
  if (begin > end || end > data_size)
    fail (path, "tensor '" + name + "' has data_offsets [" + std::to_string (begin) + ", " +
        std::to_string (end) + "] outside the " + std::to_string (data_size) + "-byte data section (truncated file?)");
  size_t bytes = 0;
  if (!checked_numel (e.shape, dtype_size (e.dtype), &bytes) || bytes != end - begin)
    fail (path, "tensor '" + name + "' of shape " + shape_string (e.shape) + " and dtype " + dtype_name (e.dtype) +
        " does not match its " + std::to_string (end - begin) + "-byte data range");
  e.begin = static_cast<size_t> (begin);
  e.end = static_cast<size_t> (end);
  return e;
}

void
check_no_overlap (const std::string &path, std::vector<TensorEntry> sorted)
{
  std::sort (sorted.begin (), sorted.end (),
      [] (const TensorEntry &a, const TensorEntry &b) { return a.begin < b.begin; });
  for (size_t i = 1; i < sorted.size (); ++i)
    if (sorted[i].begin < sorted[i - 1].end)
      fail (path, "tensors '" + sorted[i - 1].name + "' and '" + sorted[i].name + "' overlap");
}

}  // namespace

const char *
dtype_name (DType dtype)
{
  for (const auto &d : kDTypes)
    if (d.dtype == dtype)
      return d.name;
  return "?";
}

size_t
dtype_size (DType dtype)
{
  for (const auto &d : kDTypes)
    if (d.dtype == dtype)
      return d.size;
  return 0;
}

std::string
shape_string (const Shape &shape)
{
  std::ostringstream s;
  s << '[';
  for (size_t i = 0; i < shape.size (); ++i)
    s << (i ? ", " : "") << shape[i];
  s << ']';
  return s.str ();
}

int64_t
TensorEntry::numel () const
{
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

SafetensorsFile
SafetensorsFile::open (const std::string &path)
{
  return parse (read_whole_file (path), path);
}

SafetensorsFile
SafetensorsFile::parse (std::vector<unsigned char> bytes, const std::string &path)
{
  if (bytes.size () < 8)
    fail (path, "too short for a safetensors header (" + std::to_string (bytes.size ()) + " bytes)");
  const uint64_t header_len = read_le64 (bytes.data ());
  if (header_len > kMaxHeaderBytes)
    fail (path, "invalid header length " + std::to_string (header_len) + ": exceeds the limit of " +
        std::to_string (kMaxHeaderBytes) + " bytes");
  if (header_len < 2 || header_len > bytes.size () - 8)
    fail (path, "invalid header length " + std::to_string (header_len) + " for a " +
        std::to_string (bytes.size ()) + "-byte file");
  const char *text = reinterpret_cast<const char *> (bytes.data () + 8);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse (text, text + header_len);
  } catch (const nlohmann::json::exception &e) {
    fail (path, std::string ("header is not valid JSON: ") + e.what ());
  }
  if (!header.is_object ())
    fail (path, "header is not a JSON object");

  SafetensorsFile f;
  f.path_ = path;
  const size_t data_size = bytes.size () - 8 - static_cast<size_t> (header_len);
  for (const auto &item : header.items ()) {
    if (item.key () == "__metadata__") {
      if (!item.value ().is_object ())
        fail (path, "__metadata__ is not an object");
      for (const auto &m : item.value ().items ()) {
        if (!m.value ().is_string ())
          fail (path, "metadata value of '" + m.key () + "' is not a string");
        f.metadata_[m.key ()] = m.value ().get<std::string> ();
      }
      continue;
    }
    f.index_[item.key ()] = f.tensors_.size ();
    f.tensors_.push_back (parse_entry (path, item.key (), item.value (), data_size));
  }
  check_no_overlap (path, f.tensors_);
  /* Keep file order stable (the JSON object is sorted by name; data order is
   * the natural order of the state_dict). */
  std::sort (f.tensors_.begin (), f.tensors_.end (),
      [] (const TensorEntry &a, const TensorEntry &b) { return a.begin < b.begin || (a.begin == b.begin && a.name < b.name); });
  f.index_.clear ();
  for (size_t i = 0; i < f.tensors_.size (); ++i)
    f.index_[f.tensors_[i].name] = i;
  bytes.erase (bytes.begin (), bytes.begin () + 8 + static_cast<std::ptrdiff_t> (header_len));
  f.data_ = std::move (bytes);
  return f;
}

bool
SafetensorsFile::has (const std::string &name) const
{
  return index_.count (name) != 0;
}

const TensorEntry &
SafetensorsFile::entry (const std::string &name) const
{
  auto it = index_.find (name);
  if (it == index_.end ())
    fail (path_, "missing tensor '" + name + "'");
  return tensors_[it->second];
}

std::vector<float>
SafetensorsFile::floats (const std::string &name) const
{
  const TensorEntry &e = entry (name);
  const size_t n = static_cast<size_t> (e.numel ());
  const unsigned char *p = bytes (e);
  std::vector<float> out (n);
  switch (e.dtype) {
    case DType::F32:
      std::memcpy (out.data (), p, n * 4);
      break;
    case DType::F64:
      for (size_t i = 0; i < n; ++i)
        out[i] = static_cast<float> (load_le<double> (p + 8 * i));
      break;
    case DType::F16:
      for (size_t i = 0; i < n; ++i)
        out[i] = half_to_float (load_le<uint16_t> (p + 2 * i));
      break;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i)
        out[i] = bf16_to_float (load_le<uint16_t> (p + 2 * i));
      break;
    default:
      fail (path_, "tensor '" + name + "' has dtype " + dtype_name (e.dtype) + " but a floating-point tensor is needed");
  }
  return out;
}

std::vector<int64_t>
SafetensorsFile::ints (const std::string &name) const
{
  const TensorEntry &e = entry (name);
  const size_t n = static_cast<size_t> (e.numel ());
  const unsigned char *p = bytes (e);
  std::vector<int64_t> out (n);
  for (size_t i = 0; i < n; ++i) {
    switch (e.dtype) {
      case DType::I64: out[i] = load_le<int64_t> (p + 8 * i); break;
      case DType::I32: out[i] = load_le<int32_t> (p + 4 * i); break;
      case DType::I16: out[i] = load_le<int16_t> (p + 2 * i); break;
      case DType::I8: out[i] = load_le<int8_t> (p + i); break;
      case DType::U8:
      case DType::BOOL: out[i] = p[i]; break;
      default:
        fail (path_, "tensor '" + name + "' has dtype " + dtype_name (e.dtype) + " but an integer tensor is needed");
    }
  }
  return out;
}

void
SafetensorsFile::require_shape (const std::string &name, const Shape &shape) const
{
  const TensorEntry &e = entry (name);
  if (e.shape != shape)
    fail (path_, "tensor '" + name + "' has shape " + shape_string (e.shape) + ", expected " + shape_string (shape));
}

void
SafetensorsFile::require_names (const std::vector<std::string> &expected) const
{
  const std::set<std::string> want (expected.begin (), expected.end ());
  std::string missing, unexpected;
  for (const auto &n : expected)
    if (!has (n))
      missing += (missing.empty () ? "" : ", ") + n;
  for (const auto &t : tensors_)
    if (!want.count (t.name))
      unexpected += (unexpected.empty () ? "" : ", ") + t.name;
  if (missing.empty () && unexpected.empty ())
    return;
  std::string msg;
  if (!missing.empty ())
    msg += "missing tensors: " + missing;
  if (!unexpected.empty ())
    msg += std::string (msg.empty () ? "" : "; ") + "unexpected tensors: " + unexpected;
  fail (path_, msg + " (wrong architecture or hyper-parameter metadata?)");
}

void
write_safetensors (const std::string &path, const std::vector<TensorData> &tensors,
    const std::map<std::string, std::string> &metadata)
{
  nlohmann::ordered_json header = nlohmann::ordered_json::object ();
  if (!metadata.empty ()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object ();
    for (const auto &kv : metadata)
      meta[kv.first] = kv.second;
    header["__metadata__"] = meta;
  }
  std::set<std::string> seen;
  size_t offset = 0;
  std::vector<size_t> sizes;
  for (const auto &t : tensors) {
    if (t.name == "__metadata__" || !seen.insert (t.name).second)
      fail (path, "duplicate or reserved tensor name '" + t.name + "'");
    size_t bytes = 0;
    if (!checked_numel (t.shape, dtype_size (t.dtype), &bytes))
      fail (path, "tensor '" + t.name + "' has an invalid shape " + shape_string (t.shape));
    header[t.name] = {{"dtype", dtype_name (t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    sizes.push_back (bytes);
  }
  std::string text = header.dump ();
  text.append ((8 - text.size () % 8) % 8, ' ');

  std::ofstream out (path, std::ios::binary | std::ios::trunc);
  if (!out)
    fail (path, std::string ("cannot create: ") + std::strerror (errno));
  unsigned char len[8];
  for (int i = 0; i < 8; ++i)
    len[i] = static_cast<unsigned char> ((static_cast<uint64_t> (text.size ()) >> (8 * i)) & 0xffu);
  out.write (reinterpret_cast<const char *> (len), 8);
  out.write (text.data (), static_cast<std::streamsize> (text.size ()));
  for (size_t i = 0; i < tensors.size (); ++i)
    out.write (static_cast<const char *> (tensors[i].data), static_cast<std::streamsize> (sizes[i]));
  out.flush ();
  if (!out)
    fail (path, "write error");
}

std::vector<std::string>
split_list (const std::string &text)
{
  std::vector<std::string> out;
  std::string item;
  std::istringstream in (text);
  while (std::getline (in, item, ',')) {
    const auto b = item.find_first_not_of (" \t");
    const auto e = item.find_last_not_of (" \t");
    out.push_back (b == std::string::npos ? std::string () : item.substr (b, e - b + 1));
  }
  return out;
}

int
metadata_int (const SafetensorsFile &file, const std::string &key, int fallback)
{
  try {
    return metadata_positive_int (file.metadata (), key, fallback);
  } catch (const std::invalid_argument &e) {
    fail (file.path (), e.what ());
  }
}

ModelInfo
read_model_info (const SafetensorsFile &file)
{
  ModelInfo info;
  const auto &meta = file.metadata ();
  info.path = file.path ();
  info.metadata = meta;
  auto text = [&meta] (const char *key, const std::string &fallback) {
    auto it = meta.find (key);
    return it == meta.end () ? fallback : it->second;
  };
  std::string guessed;
  if (file.has ("quantizer.embedding.weight"))
    guessed = "tfm-tokenizer";
  else if (file.has ("classification_head.weight"))
    guessed = "tfm-encoder";
  info.architecture = text ("architecture", guessed);
  info.modality = text ("modality", "eeg");
  const std::string base = file.path ().substr (file.path ().find_last_of ('/') + 1);
  info.id = text ("id", base.substr (0, base.rfind (".safetensors")));
  try {
    info.geometry = WindowGeometry::from_metadata (meta);
  } catch (const std::invalid_argument &e) {
    fail (file.path (), e.what ());
  }
  info.vocabulary = metadata_int (file, "vocabulary", info.vocabulary);
  info.labels = split_list (text ("labels", ""));
  info.channels = split_list (text ("channels", ""));
  return info;
}

}  // namespace neuro
