// SPDX-License-Identifier: LGPL-2.1-or-later
/* tfm-train: trains TFM tokenizers and LBM classifiers from EDF/BDF, audio
 * and text recordings, and writes safetensors files the elements run without
 * launch-line options. See models/train/README.md (and --help). */
#include "inputs.h"
#include "safetensors.h"
#include "train.h"

#include <gst/gst.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <regex>
#include <set>
#include <unistd.h>

using namespace neuro::train;
using neuro::WindowGeometry;

namespace {

const char *USAGE =
    "usage: tfm-train tokenizer  --output FILE [options] INPUT...\n"
    "       tfm-train classifier --output FILE --tokenizer FILE --labels A,B [options] INPUT...\n"
    "       tfm-train evaluate   --model FILE --holdout PATTERN [options] INPUT...\n"
    "\n"
    "INPUT: EDF/EDF+/BDF/BDF+, WAV/FLAC/OGG (decoded by GStreamer), TXT/CSV/TSV/ARFF columns,\n"
    "  or a directory (searched recursively). A text input may end in @HZ to give its rate.\n"
    "\n"
    "Signal and windows:\n"
    "  --modality NAME        eeg (default), audio or haptic: written to the model\n"
    "  --sample-rate HZ       model sample rate; every input is resampled to it (200)\n"
    "  --n-fft N --hop N --bins N   STFT of the model (200, 100, 100)\n"
    "  --window-seconds S     tokenizer window (10); or --window-samples N\n"
    "  --stride-seconds S     distance between training windows (= window)\n"
    "  --channels A,B,...     EDF labels / CSV column names to use (all)\n"
    "  --rate HZ              sample rate of text/CSV inputs without @HZ\n"
    "  --mono                 mix audio inputs down to one channel\n"
    "  --remove-dc            subtract each text channel's median (devices with an offset)\n"
    "  --max-abs V            drop windows with a sample beyond +-V (after --remove-dc)\n"
    "  --holdout P1,P2        inputs whose path contains a pattern are held out for evaluation\n"
    "  --max-windows N        use at most N training windows (evenly spaced)\n"
    "  --strict               stop at the first unreadable input (default: skip it with a warning)\n"
    "\n"
    "Tokenizer model: --emb 64 --heads 8 --freq-depth 2 --temporal-depth 2 --decoder-depth 8\n"
    "  --codebook 8192 --restart-dead-codes\n"
    "Classifier: --tokenizer FILE --labels A,B --label PATTERN=LABEL (file name rule, repeatable)\n"
    "  --annotation TEXT=LABEL (EDF+ annotation rule) --label-column NAME (text: class index per row)\n"
    "  --subject REGEX (groups for --loso) --loso --emb 32 --heads 4 --depth 2\n"
    "  --pretrain-epochs N (masked-token pre-training on the training windows first)\n"
    "Training: --epochs 10 --batch 64 --lr 1e-3 --final-lr 1e-4 --warmup 0.1 --weight-decay 1e-5\n"
    "  --seed 1 --threads 1 --checkpoint FILE [--checkpoint-every 200] --resume FILE --max-steps N\n"
    "  --id TEXT (model id) --describe TEXT (data description stored in the metadata)\n";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Args {
  std::string command;
  std::map<std::string, std::string> values;
  std::multimap<std::string, std::string> repeated;
  std::set<std::string> flags;
  std::vector<std::string> inputs;

  bool has (const std::string &k) const { return values.count (k) || flags.count (k); }
  std::string str (const std::string &k, const std::string &def = "") const
  {
    auto it = values.find (k);
    return it == values.end () ? def : it->second;
  }
  double num (const std::string &k, double def) const
  {
    auto it = values.find (k);
    if (it == values.end ())
      return def;
    char *end = nullptr;
    double v = std::strtod (it->second.c_str (), &end);
    if (!end || *end || !std::isfinite (v))
      throw UsageError ("--" + k + " needs a number, not \"" + it->second + "\"");
    return v;
  }
  int integer (const std::string &k, int def) const
  {
    double v = num (k, def);
    if (v != std::floor (v) || v < 0)
      throw UsageError ("--" + k + " needs a whole number >= 0");
    return static_cast<int> (v);
  }
};

const std::set<std::string> FLAGS = {"mono", "remove-dc", "strict", "restart-dead-codes", "loso", "help"};
const std::set<std::string> REPEATED = {"label", "annotation"};
const std::set<std::string> VALUES = {"output", "modality", "sample-rate", "n-fft", "hop", "bins",
    "window-seconds", "window-samples", "stride-seconds", "channels", "rate", "max-abs", "holdout",
    "max-windows", "emb", "heads", "freq-depth", "temporal-depth", "decoder-depth", "codebook", "tokenizer",
    "labels", "label-column", "subject", "depth", "epochs", "batch", "lr", "final-lr", "warmup",
    "weight-decay", "seed", "threads", "checkpoint", "checkpoint-every", "resume", "max-steps", "id",
    "describe", "model", "pretrain-epochs"};

Args
parse_args (int argc, char **argv)
{
  Args a;
  if (argc < 2)
    throw UsageError ("missing command");
  a.command = argv[1];
  for (int i = 2; i < argc; i++) {
    std::string arg = argv[i];
    if (arg.rfind ("--", 0) != 0) {
      a.inputs.push_back (arg);
      continue;
    }
    std::string key = arg.substr (2);
    if (FLAGS.count (key)) {
      a.flags.insert (key);
      continue;
    }
    if (!VALUES.count (key) && !REPEATED.count (key))
      throw UsageError ("unknown option " + arg);
    if (i + 1 >= argc)
      throw UsageError (arg + " needs a value");
    if (REPEATED.count (key))
      a.repeated.emplace (key, argv[++i]);
    else
      a.values[key] = argv[++i];
  }
  return a;
}

std::vector<std::string>
split (const std::string &text, char sep = ',')
{
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + sep) {
    if (c == sep) {
      if (!cur.empty ())
        out.push_back (cur);
      cur.clear ();
    } else {
      cur += c;
    }
  }
  return out;
}

/* The tokenizer geometry of the command line. */
WindowGeometry
window_geometry (const Args &a)
{
  WindowGeometry g;
  g.rate = a.integer ("sample-rate", 200);
  g.n_fft = a.integer ("n-fft", 200);
  g.hop = a.integer ("hop", g.n_fft / 2);
  g.bins = a.integer ("bins", g.n_fft / 2);
  g.window_samples = a.has ("window-samples") ? a.integer ("window-samples", 0)
                                              : static_cast<int> (std::lround (a.num ("window-seconds", 10) * g.rate));
  if (g.rate <= 0)
    throw UsageError ("--sample-rate must be positive");
  const std::string problem = g.with_channels (1).check ();
  if (!problem.empty ())
    throw std::invalid_argument (problem);  /* the STFT does not tile the window */
  return g;
}

/* Samples between the starts of training windows: --stride-seconds, else the window. */
int
training_stride (const Args &a, const WindowGeometry &g)
{
  if (!a.has ("stride-seconds"))
    return g.window_samples;
  const int stride = static_cast<int> (std::lround (a.num ("stride-seconds", 0) * g.rate));
  if (stride <= 0)
    throw UsageError ("--stride-seconds must be positive");
  return stride;
}

Schedule
schedule (const Args &a)
{
  Schedule s;
  s.epochs = a.integer ("epochs", s.epochs);
  s.batch = std::max (1, a.integer ("batch", s.batch));
  s.lr = a.num ("lr", s.lr);
  s.final_lr = a.num ("final-lr", s.lr / 10);
  s.warmup = a.num ("warmup", s.warmup);
  s.weight_decay = a.num ("weight-decay", s.weight_decay);
  s.seed = static_cast<unsigned long> (a.num ("seed", 1));
  s.threads = std::max (1, a.integer ("threads", 1));
  s.checkpoint = a.str ("checkpoint");
  s.checkpoint_every = std::max (1, a.integer ("checkpoint-every", s.checkpoint_every));
  s.resume = a.str ("resume");
  s.max_steps = a.integer ("max-steps", 0);
  return s;
}

InputOptions
input_options (const Args &a, const WindowGeometry &w)
{
  InputOptions o;
  o.rate = w.rate;
  o.text_rate = a.num ("rate", 0);
  o.channels = split (a.str ("channels"));
  o.mono = a.has ("mono");
  o.label_column = a.str ("label-column");
  o.remove_dc = a.has ("remove-dc");
  return o;
}

/* "file.txt@128" gives a text input its own rate. */
std::string
strip_rate (const std::string &input, InputOptions &opts)
{
  auto at = input.rfind ('@');
  if (at == std::string::npos || std::filesystem::exists (input))
    return input;
  char *end = nullptr;
  double r = std::strtod (input.c_str () + at + 1, &end);
  if (!end || *end || r <= 0)
    return input;
  opts.text_rate = r;
  return input.substr (0, at);
}

bool
matches_any (const std::string &path, const std::vector<std::string> &patterns)
{
  return std::any_of (patterns.begin (), patterns.end (),
      [&] (const std::string &p) { return path.find (p) != std::string::npos; });
}

/* Fails before any work when `path` (the value of --`option`) cannot be
 * written: probing with a real open() is the only test root and ACLs obey. */
void
check_writable (const std::string &option, const std::string &path)
{
  if (path.empty ())
    return;
  const bool existed = std::filesystem::exists (path);
  if (existed && std::filesystem::is_directory (path))
    throw std::runtime_error ("--" + option + " " + path + " is a directory; give a file name");
  int fd = ::open (path.c_str (), existed ? O_WRONLY : (O_WRONLY | O_CREAT | O_EXCL), 0644);
  if (fd < 0)
    throw std::runtime_error ("cannot write --" + option + " " + path + ": " + std::strerror (errno)
        + " (checked before training; choose a writable location)");
  ::close (fd);
  if (!existed)
    ::unlink (path.c_str ());
}

/* A missing input is a typo, not a bad recording: stop before reading anything. */
void
check_inputs_exist (const std::vector<std::string> &inputs)
{
  for (const auto &in : inputs) {
    InputOptions o;
    std::string path = strip_rate (in, o);
    if (!std::filesystem::exists (path))
      throw std::runtime_error ("input " + path + " does not exist");
  }
}

/* Reads every input, skipping (or, with --strict, stopping at) bad ones; fails
 * with the reasons when none could be read (a mistyped --channels name ends
 * here, not in an empty training set). */
std::vector<Recording>
read_all (const Args &a, const InputOptions &base)
{
  check_inputs_exist (a.inputs);
  std::vector<std::string> inputs;
  for (const auto &in : a.inputs) {
    InputOptions o = base;
    std::string path = strip_rate (in, o);
    for (const auto &f : expand_inputs ({path}))
      inputs.push_back (f + (o.text_rate != base.text_rate ? "@" + std::to_string (o.text_rate) : ""));
  }
  if (inputs.empty ())
    throw UsageError ("no input files");
  std::vector<Recording> out;
  std::string reasons;
  for (const auto &in : inputs) {
    InputOptions o = base;
    std::string path = strip_rate (in, o);
    try {
      out.push_back (read_input (path, o));
      size_t channels = out.back ().channels.size ();
      std::fprintf (stderr, "read %s: %zu channel%s, %.1f s\n", path.c_str (), channels, channels == 1 ? "" : "s",
          static_cast<double> (out.back ().n_samples ()) / o.rate);
    } catch (const InputError &e) {
      if (a.has ("strict"))
        throw;
      std::fprintf (stderr, "tfm-train: warning: skipping %s\n", e.what ());
      reasons += std::string ("\n  ") + e.what ();
    }
  }
  if (out.empty ())
    throw std::runtime_error ("no training windows: none of the " + std::to_string (inputs.size ())
        + " input(s) could be read:" + reasons);
  return out;
}

std::vector<ChannelWindow>
drop_large (std::vector<ChannelWindow> windows, double max_abs)
{
  if (max_abs <= 0)
    return windows;
  windows.erase (std::remove_if (windows.begin (), windows.end (), [max_abs] (const ChannelWindow &w) {
    return std::any_of (w.signal.begin (), w.signal.end (), [max_abs] (float v) { return std::fabs (v) > max_abs; });
  }), windows.end ());
  return windows;
}

/* Keeps at most `limit` rows, evenly spaced (deterministic). */
WindowSet
limit_rows (const WindowSet &set, size_t limit)
{
  if (limit == 0 || set.size () <= limit)
    return set;
  WindowSet out;
  out.bins = set.bins;
  out.frames = set.frames;
  out.samples = set.samples;
  const size_t srow = static_cast<size_t> (set.bins) * set.frames;
  for (size_t k = 0; k < limit; k++) {
    size_t i = k * set.size () / limit;
    out.stft.insert (out.stft.end (), set.stft.begin () + i * srow, set.stft.begin () + (i + 1) * srow);
    out.raw.insert (out.raw.end (), set.raw.begin () + i * set.samples, set.raw.begin () + (i + 1) * set.samples);
  }
  return out;
}

/* Training and held-out single-channel windows of every recording. */
std::pair<WindowSet, WindowSet>
tokenizer_windows (const Args &a, const WindowGeometry &w)
{
  const int stride = training_stride (a, w);
  auto recordings = read_all (a, input_options (a, w));
  auto holdout = split (a.str ("holdout"));
  WindowSet train, heldout;
  for (const auto &rec : recordings) {
    auto windows = drop_large (cut_recording (rec, w, stride), a.num ("max-abs", 0));
    (matches_any (rec.path, holdout) ? heldout : train).append (single_channel_rows (windows, w));
  }
  std::fprintf (stderr, "%zu training windows, %zu held-out windows (single channel)\n", train.size (),
      heldout.size ());
  return {limit_rows (train, a.integer ("max-windows", 0)), heldout};
}

std::string
default_id (const std::string &output)
{
  return std::filesystem::path (output).stem ().string ();
}

int
run_tokenizer (const Args &a)
{
  TokenizerJob job;
  job.output = a.str ("output");
  if (job.output.empty ())
    throw UsageError ("--output is required");
  check_writable ("output", job.output);
  check_writable ("checkpoint", a.str ("checkpoint"));
  job.modality = a.str ("modality", "eeg");
  job.id = a.str ("id", default_id (job.output));
  job.windows = window_geometry (a);
  job.emb = a.integer ("emb", 64);
  job.heads = a.integer ("heads", 8);
  job.freq_depth = a.integer ("freq-depth", 2);
  job.temporal_depth = a.integer ("temporal-depth", 2);
  job.decoder_depth = a.integer ("decoder-depth", 8);
  job.codebook = a.integer ("codebook", 8192);
  job.restart_dead_codes = a.has ("restart-dead-codes");
  job.schedule = schedule (a);
  if (a.has ("describe"))
    job.extra_metadata["train-data"] = a.str ("describe");
  std::tie (job.train, job.heldout) = tokenizer_windows (a, job.windows);
  train_tokenizer (job);
  return 0;
}

int
run_evaluate (const Args &a)
{
  std::string model = a.str ("model");
  if (model.empty ())
    throw UsageError ("--model is required");
  auto file = neuro::SafetensorsFile::open (model);
  neuro::ModelInfo info = neuro::read_model_info (file);
  auto [reference, heldout] = tokenizer_windows (a, info.geometry);
  if (heldout.size () == 0)
    throw std::runtime_error ("no held-out windows: give --holdout patterns that match some inputs");
  evaluate_tokenizer (model, heldout, reference, static_cast<unsigned long> (a.num ("seed", 1)));
  return 0;
}

int
label_index (const std::vector<std::string> &labels, const std::string &name, const std::string &rule)
{
  auto it = std::find (labels.begin (), labels.end (), name);
  if (it == labels.end ())
    throw UsageError ("rule \"" + rule + "\" names label \"" + name + "\", which is not in --labels");
  return static_cast<int> (it - labels.begin ());
}

/* File label from the first --label PATTERN=LABEL whose pattern the file name contains. */
int
file_label (const Args &a, const std::vector<std::string> &labels, const std::string &path)
{
  std::string name = std::filesystem::path (path).filename ().string ();
  for (auto [it, end] = a.repeated.equal_range ("label"); it != end; ++it) {
    auto eq = it->second.find ('=');
    if (eq == std::string::npos)
      throw UsageError ("--label needs PATTERN=LABEL, not \"" + it->second + "\"");
    if (name.find (it->second.substr (0, eq)) != std::string::npos)
      return label_index (labels, it->second.substr (eq + 1), it->second);
  }
  return -1;
}

/* Per-sample labels from EDF+ annotations matching --annotation TEXT=LABEL. */
void
annotation_labels (const Args &a, const std::vector<std::string> &labels, Recording &rec)
{
  if (a.repeated.count ("annotation") == 0 || rec.annotations.empty ())
    return;
  rec.sample_labels.assign (rec.n_samples (), -1);
  for (const auto &ann : rec.annotations)
    for (auto [it, end] = a.repeated.equal_range ("annotation"); it != end; ++it) {
      auto eq = it->second.find ('=');
      if (eq == std::string::npos || ann.text != it->second.substr (0, eq))
        continue;
      int k = label_index (labels, it->second.substr (eq + 1), it->second);
      size_t lo = static_cast<size_t> (std::max (0.0, ann.onset * rec.rate));
      size_t hi = std::min (rec.n_samples (), static_cast<size_t> ((ann.onset + std::max (0.0, ann.duration)) * rec.rate));
      std::fill (rec.sample_labels.begin () + std::min (lo, hi), rec.sample_labels.begin () + hi, k);
    }
}

int
run_classifier (const Args &a)
{
  ClassifierJob job;
  job.output = a.str ("output");
  job.tokenizer = a.str ("tokenizer");
  job.labels = split (a.str ("labels"));
  job.channels = split (a.str ("channels"));
  if (job.output.empty () || job.tokenizer.empty () || job.labels.size () < 2 || job.channels.empty ())
    throw UsageError ("classifier needs --output, --tokenizer, --labels (two or more) and --channels");
  check_writable ("output", job.output);
  check_writable ("checkpoint", a.str ("checkpoint"));
  auto file = neuro::SafetensorsFile::open (job.tokenizer);
  neuro::ModelInfo info = neuro::read_model_info (file);
  job.tokenizer_id = info.id;
  job.id = a.str ("id", default_id (job.output));
  job.emb = a.integer ("emb", 32);
  job.heads = a.integer ("heads", 4);
  job.depth = a.integer ("depth", 2);
  job.loso = a.has ("loso");
  job.pretrain_epochs = a.integer ("pretrain-epochs", 0);
  job.schedule = schedule (a);
  if (a.has ("describe"))
    job.extra_metadata["train-data"] = a.str ("describe");
  job.windows = info.geometry;
  const int stride = training_stride (a, job.windows);
  std::regex subject (a.str ("subject", "$^"));
  for (auto &rec : read_all (a, input_options (a, job.windows))) {
    annotation_labels (a, job.labels, rec);
    int label = file_label (a, job.labels, rec.path);
    auto windows = drop_large (cut_recording (rec, job.windows, stride, label), a.num ("max-abs", 0));
    std::smatch m;
    std::string name = std::filesystem::path (rec.path).filename ().string ();
    std::string group = std::regex_search (name, m, subject) ? m.str () : "";
    size_t kept = 0;
    for (auto &w : windows)
      if (w.label >= 0) {
        job.data.windows.push_back (std::move (w));
        job.data.groups.push_back (group);
        kept++;
      }
    std::fprintf (stderr, "%s: %zu labelled windows%s\n", rec.path.c_str (), kept,
        group.empty () ? "" : (" (subject " + group + ")").c_str ());
  }
  train_classifier (job);
  return 0;
}

}  // namespace

int
main (int argc, char **argv)
{
  gst_init (nullptr, nullptr);
  try {
    Args a = parse_args (argc, argv);
    if (a.has ("help") || a.command == "--help" || a.command == "-h") {
      std::fputs (USAGE, stdout);
      return 0;
    }
    if (a.command == "tokenizer")
      return run_tokenizer (a);
    if (a.command == "classifier")
      return run_classifier (a);
    if (a.command == "evaluate")
      return run_evaluate (a);
    throw UsageError ("unknown command \"" + a.command + "\"");
  } catch (const UsageError &e) {
    std::fprintf (stderr, "tfm-train: %s\n\n%s", e.what (), USAGE);
    return 2;
  } catch (const std::exception &e) {
    std::fprintf (stderr, "tfm-train: error: %s\n", e.what ());
    return 1;
  }
}
