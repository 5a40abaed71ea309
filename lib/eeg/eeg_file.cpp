// SPDX-License-Identifier: LGPL-2.1-or-later
#include "eeg_file.h"

#include "channels.h"
#include "resampler.h"
#include "utf8.h"

#include <edflib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <numeric>

#include <fcntl.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace neuro {

/* EDFlib keeps its open files in a global table without locking. */
static std::mutex edflib_mutex;

static std::string
quoted (const std::string &s)
{
  return "'" + valid_utf8 (s) + "'";
}



static const char *
edflib_error_text (int code)
{
  switch (code) {
    case EDFLIB_MALLOC_ERROR: return "out of memory";
    case EDFLIB_NO_SUCH_FILE_OR_DIRECTORY: return "no such file";
    case EDFLIB_FILE_CONTAINS_FORMAT_ERRORS:
      return "not a valid EDF/BDF file (corrupt header, or the file is truncated: its size does "
          "not match the number of data records in the header)";
    case EDFLIB_MAXFILES_REACHED: return "too many EDF files open at once";
    case EDFLIB_FILE_READ_ERROR: return "read error";
    case EDFLIB_FILE_ALREADY_OPENED: return "file already opened";
    case EDFLIB_FILETYPE_ERROR: return "unknown file type";
    case EDFLIB_NUMBER_OF_SIGNALS_INVALID: return "invalid number of signals in the header";
    case EDFLIB_FILE_IS_DISCONTINUOUS:
      return "EDF+D/BDF+D (discontinuous) recordings are not supported";
    default: return "cannot be read by EDFlib";
  }
}

static std::vector<std::string>
identification_fields (const edf_hdr_struct &h)
{
  std::vector<std::pair<const char *, const char *>> fields = {
    {"patient", h.patient}, {"recording", h.recording}, {"patientcode", h.patientcode},
    {"gender", h.gender}, {"birthdate", h.birthdate}, {"patient-name", h.patient_name},
    {"patient-additional", h.patient_additional}, {"admincode", h.admincode},
    {"technician", h.technician}, {"equipment", h.equipment},
    {"recording-additional", h.recording_additional}};
  std::vector<std::string> out;
  for (const auto &f : fields)
    if (!trim (f.second).empty ())
      out.push_back (std::string (f.first) + "=" + valid_utf8 (trim (f.second)));
  char start[64];
  std::snprintf (start, sizeof (start), "start=%04d-%02d-%02dT%02d:%02d:%02d", h.startdate_year,
      h.startdate_month, h.startdate_day, h.starttime_hour, h.starttime_minute,
      h.starttime_second);
  out.push_back (start);
  return out;
}

/* Checked first, because EDFlib reports every open failure as "no such file".
 * One open (non-blocking, so that a FIFO cannot block the pipeline for ever)
 * and an fstat of what was opened: one path lookup, and no race between the
 * check and the open. */
static void
check_readable (const std::string &path)
{
  const int fd = ::open (path.c_str (), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    throw EegError (EegError::kOpen, "EEG file " + quoted (path) + ": cannot open: " +
        std::strerror (errno));
  struct stat st;
  const bool stated = fstat (fd, &st) == 0;
  close (fd);
  /* Only regular files: EDFlib would block on a FIFO or fail obscurely on a directory. */
  if (stated && !S_ISREG (st.st_mode))
    throw EegError (EegError::kOpen, "EEG file " + quoted (path) + ": cannot open: " +
        (S_ISDIR (st.st_mode) ? "is a directory" : "not a regular file"));
}

/* Header byte ranges of the transducer, physical dimension and prefilter
 * fields of every EDF+/BDF+ annotation signal that are not blank. The EDF+
 * specification requires spaces there and EDFlib refuses the file otherwise,
 * but PhysioNet's EEGMMIDB (and other BCI2000 exports) write text into them. */
static std::vector<std::pair<size_t, size_t>>
nonblank_annotation_fields (const std::string &path)
{
  std::vector<std::pair<size_t, size_t>> out;
  FILE *f = std::fopen (path.c_str (), "rb");
  if (!f)
    return out;
  char main_hdr[256];
  std::string hdr;
  if (std::fread (main_hdr, 1, 256, f) == 256 &&
      (std::strncmp (main_hdr + 192, "EDF+", 4) == 0 ||
       std::strncmp (main_hdr + 192, "BDF+", 4) == 0)) {
    const int ns = std::atoi (std::string (main_hdr + 252, 4).c_str ());
    hdr.resize (ns > 0 && ns <= EDFLIB_MAXSIGNALS ? (size_t) ns * 256 : 0);
    if (hdr.empty () || std::fread (&hdr[0], 1, hdr.size (), f) != hdr.size ())
      hdr.clear ();
    for (int i = 0; !hdr.empty () && i < ns; i++) {
      const std::string label = trim (hdr.substr ((size_t) i * 16, 16));
      if (label != "EDF Annotations" && label != "BDF Annotations")
        continue;
      /* (offset of the field array, width): transducer, dimension, prefilter */
      const std::pair<size_t, size_t> fields[] = {
        {(size_t) ns * 16, 80}, {(size_t) ns * 96, 8}, {(size_t) ns * 136, 80}};
      for (const auto &fw : fields) {
        const size_t at = fw.first + (size_t) i * fw.second;
        if (!trim (hdr.substr (at, fw.second)).empty ())
          out.push_back ({256 + at, fw.second});
      }
    }
  }
  std::fclose (f);
  return out;
}

/* An anonymous in-memory copy of `path` with the given header fields blanked,
 * as an fd whose /proc/self/fd path EDFlib can open. The copy has no name in
 * any directory, so it cannot outlive the process (a kill during start-up
 * leaves nothing, patient identification included, behind in $TMPDIR). */
static int
blanked_copy (const std::string &path, const std::vector<std::pair<size_t, size_t>> &fields)
{
  const int fd = memfd_create ("eegsrc-repaired-edf", MFD_CLOEXEC);
  FILE *in = std::fopen (path.c_str (), "rb");
  bool ok = in && fd >= 0;
  std::vector<char> buf (1 << 16);
  size_t offset = 0, n;
  while (ok && (n = std::fread (buf.data (), 1, buf.size (), in)) > 0) {
    for (const auto &f : fields)
      for (size_t b = f.first; b < f.first + f.second; b++)
        if (b >= offset && b < offset + n)
          buf[b - offset] = ' ';
    ok = write (fd, buf.data (), n) == (ssize_t) n;
    offset += n;
  }
  const int saved = errno;
  if (in)
    std::fclose (in);
  if (!ok) {
    if (fd >= 0)
      close (fd);
    throw EegError (EegError::kOpen, "EEG file " + quoted (path) +
        ": cannot make a repaired in-memory copy: " + std::strerror (saved));
  }
  return fd;
}

/* EDFlib refuses to open one path twice at once; an equivalent spelling of
 * the path ("./x", "/./x") gives a second, independent handle. */
static int
edflib_open (std::string path, edf_hdr_struct *hdr)
{
  std::lock_guard<std::mutex> lock (edflib_mutex);
  for (int attempt = 0; attempt < 16; attempt++) {
    if (edfopen_file_readonly (path.c_str (), hdr, EDFLIB_READ_ALL_ANNOTATIONS) == 0)
      return 0;
    if (hdr->filetype != EDFLIB_FILE_ALREADY_OPENED)
      break;
    path = path[0] == '/' ? "/." + path : "./" + path;
  }
  return hdr->filetype;
}

/* The header's start date and time as UTC (days from the civil date, so no
 * time zone or C library state is involved). */
static int64_t
start_time_ns (const edf_hdr_struct &h)
{
  const int y = h.startdate_year - (h.startdate_month <= 2);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int m = h.startdate_month;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + h.startdate_day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = (int64_t) era * 146097 + doe - 719468;
  const int64_t seconds = days * 86400 + h.starttime_hour * 3600 + h.starttime_minute * 60
      + h.starttime_second;
  return seconds * 1000000000 + (int64_t) h.starttime_subsecond * 100;
}

void
EdfFile::open (edf_hdr_struct *hdr)
{
  const int err = edflib_open (path_, hdr);
  if (err == 0)
    return;
  const auto fields = err == EDFLIB_FILE_CONTAINS_FORMAT_ERRORS ?
      nonblank_annotation_fields (path_) : std::vector<std::pair<size_t, size_t>> ();
  if (fields.empty ())
    throw EegError (EegError::kFormat, "EEG file " + quoted (path_) + ": " + edflib_error_text (err));
  const int fd = blanked_copy (path_, fields);
  /* EDFlib opens the copy itself; its FILE keeps the memory alive after close. */
  const int err2 = edflib_open ("/proc/self/fd/" + std::to_string (fd), hdr);
  close (fd);
  if (err2 != 0)
    throw EegError (EegError::kFormat, "EEG file " + quoted (path_) + ": " + edflib_error_text (err2));
  notes_.push_back ("the EDF+ annotation signal has text in its transducer, dimension or "
      "prefilter field, which EDF+ requires blank; read through a repaired copy");
}

EdfFile::EdfFile (const std::string &path) : path_ (path)
{
  check_readable (path);
  /* EDFlib's header struct is ~190 kB: keep it off the stack. Not
   * value-initialised: edfopen_file_readonly () zeroes it first. */
  std::unique_ptr<edf_hdr_struct> hdr (new edf_hdr_struct);
  open (hdr.get ());
  handle_ = hdr->handle;
  filetype_ = hdr->filetype;
  record_duration_ = hdr->datarecord_duration;
  start_unix_ns_ = start_time_ns (*hdr);
  for (int i = 0; i < hdr->edfsignals; i++) {
    const edf_param_struct &p = hdr->signalparam[i];
    signals_.push_back ({valid_utf8 (trim (p.label)), trim (p.physdimension), p.smp_in_datarecord,
        p.smp_in_file, p.phys_min, p.phys_max});
  }
  for (long long i = 0; i < hdr->annotations_in_file; i++) {
    edf_annotation_struct a;
    std::lock_guard<std::mutex> lock (edflib_mutex);
    if (edf_get_annotation (handle_, (int) i, &a) != 0)
      continue;
    annotations_.push_back ({a.onset / (double) EDFLIB_TIME_DIMENSION,
        a.duration_l < 0 ? -1.0 : a.duration_l / (double) EDFLIB_TIME_DIMENSION,
        valid_utf8 (a.annotation)});
  }
  std::stable_sort (annotations_.begin (), annotations_.end (),
      [] (const EegAnnotation &a, const EegAnnotation &b) { return a.onset < b.onset; });
  identification_ = identification_fields (*hdr);
}

EdfFile::~EdfFile ()
{
  std::lock_guard<std::mutex> lock (edflib_mutex);
  edfclose_file (handle_);
}

const char *
EdfFile::format_name () const
{
  switch (filetype_) {
    case EDFLIB_FILETYPE_EDFPLUS: return "EDF+";
    case EDFLIB_FILETYPE_BDF: return "BDF";
    case EDFLIB_FILETYPE_BDFPLUS: return "BDF+";
    default: return "EDF";
  }
}

std::vector<std::string>
EdfFile::identification () const
{
  return identification_;
}

void
EdfFile::read (int sig, int64_t first, int n, double *out) const
{
  std::lock_guard<std::mutex> lock (edflib_mutex);
  int got = -1;
  if (edfseek (handle_, sig, first, EDFSEEK_SET) == first)
    got = edfread_physical_samples (handle_, sig, n, out);
  if (got != n)
    throw EegError (EegError::kFormat, "EEG file " + quoted (path_) + ": read error in signal " +
        quoted (signals_[sig].label) + " at sample " + std::to_string (first));
}

static int
find_signal (const std::vector<EdfSignal> &signals, const std::string &label)
{
  for (size_t i = 0; i < signals.size (); i++)
    if (same_channel (signals[i].label, label))
      return (int) i;
  return -1;
}

static std::string
available_labels (const std::vector<EdfSignal> &signals)
{
  std::string out;
  for (const EdfSignal &s : signals)
    out += (out.empty () ? "" : ", ") + channel_display_name (s.label);
  return out;
}

static Derivation
plain_channel (const std::vector<EdfSignal> &signals, const std::string &label,
    const std::string &what)
{
  if (trim (label).empty ())
    throw EegError (EegError::kSelection, what + ": empty channel label in the selection");
  const int i = find_signal (signals, label);
  if (i < 0)
    throw EegError (EegError::kSelection, what + ": unknown channel label " + quoted (trim (label)) +
        " (available: " + available_labels (signals) + ")");
  return {channel_display_name (signals[i].label), signals[i].unit, i, -1};
}

/* Labels may contain '-' themselves ("A2-A1"), so every split point is tried. */
static Derivation
bipolar_channel (const std::vector<EdfSignal> &signals, const std::string &entry,
    const std::string &what)
{
  const std::string e = trim (entry);
  for (size_t dash = e.find ('-'); dash != std::string::npos; dash = e.find ('-', dash + 1)) {
    const int a = find_signal (signals, e.substr (0, dash));
    const int b = find_signal (signals, e.substr (dash + 1));
    if (a < 0 || b < 0 || trim (e.substr (0, dash)).empty ())
      continue;
    if (signals[a].unit != signals[b].unit)
      throw EegError (EegError::kSelection, what + ": montage " + quoted (e) + " subtracts signals with different "
          "units (" + signals[a].unit + ", " + signals[b].unit + ")");
    return {channel_display_name (signals[a].label) + "-" + channel_display_name (signals[b].label),
        signals[a].unit, a, b};
  }
  throw EegError (EegError::kSelection, what + ": bad montage entry " + quoted (e) + ": expected A-B with A and B "
      "channel labels of the file (available: " + available_labels (signals) + ")");
}

std::vector<Derivation>
select_derivations (const std::vector<EdfSignal> &signals,
    const std::vector<std::string> &channels, const std::vector<std::string> &montage,
    const std::string &what)
{
  if (signals.empty ())
    throw EegError (EegError::kSelection, what + ": the file has no signals to output (only annotations)");
  std::vector<Derivation> out;
  for (const std::string &label : channels)
    out.push_back (plain_channel (signals, label, what));
  for (const std::string &entry : montage)
    out.push_back (bipolar_channel (signals, entry, what));
  if (channels.empty () && montage.empty ())
    for (size_t i = 0; i < signals.size (); i++)
      out.push_back ({channel_display_name (signals[i].label), signals[i].unit, (int) i, -1});
  return out;
}

/* Factor to microvolts for voltage units; 0 for other units. */
static double
microvolt_scale (const std::string &unit)
{
  static const std::pair<const char *, double> units[] = {
    {"uV", 1.0}, {"\xc2\xb5V", 1.0}, {"\xb5V", 1.0}, {"V", 1e6}, {"mV", 1e3}, {"nV", 1e-3}};
  for (const auto &u : units)
    if (unit == u.first)
      return u.second;
  return 0.0;
}

/* Refuses a signal whose header range cannot be real data (see kMaxPhysicalValue). */
static void
check_physical_range (const EdfFile &file, const EdfSignal &sig, double scale)
{
  const double range = std::max (std::fabs (sig.physical_min), std::fabs (sig.physical_max)) * scale;
  if (!(range <= kMaxPhysicalValue)) {
    char msg[160];
    std::snprintf (msg, sizeof (msg), "physical range [%g, %g] %s exceeds the limit of %g %s",
        sig.physical_min, sig.physical_max, sig.unit.c_str (), kMaxPhysicalValue / scale,
        sig.unit.c_str ());
    throw EegError (EegError::kFormat, "EEG file " + quoted (file.path ()) + ": signal " +
        quoted (channel_display_name (sig.label)) + ": " + valid_utf8 (msg) +
        " (corrupt header?)");
  }
}

static int
native_rate_of (const EdfFile &file, const std::vector<Derivation> &derivs)
{
  const std::vector<EdfSignal> &sig = file.signals ();
  const int spr = sig[derivs[0].pos].samples_per_record;
  for (const Derivation &d : derivs)
    for (int i : {d.pos, d.neg})
      if (i >= 0 && sig[i].samples_per_record != spr)
        throw EegError (EegError::kSelection, "EEG file " + quoted (file.path ()) + ": the selected signals have "
            "different sample rates (" + channel_display_name (sig[derivs[0].pos].label) + ": " +
            std::to_string (spr) + ", " + channel_display_name (sig[i].label) + ": " +
            std::to_string (sig[i].samples_per_record) + " samples per data record); "
            "select signals of one rate with channels=");
  const int64_t dur = file.record_duration ();
  if (dur <= 0 || ((int64_t) spr * EDFLIB_TIME_DIMENSION) % dur != 0)
    throw EegError (EegError::kFormat, "EEG file " + quoted (file.path ()) + ": sample rate " +
        std::to_string (spr) + " samples per " + std::to_string (dur / 1e7) +
        " s data record is not a whole number of Hz");
  return (int) (((int64_t) spr * EDFLIB_TIME_DIMENSION) / dur);
}

EegStream::EegStream (const std::string &path, const std::vector<std::string> &channels,
    const std::vector<std::string> &montage, int rate)
    : file_ (std::make_unique<EdfFile> (path))
{
  const std::string what = "EEG file " + quoted (path);
  derivations_ = select_derivations (file_->signals (), channels, montage, what);
  native_rate_ = native_rate_of (*file_, derivations_);
  rate_ = rate > 0 ? rate : native_rate_;
  native_frames_ = INT64_MAX;
  for (Derivation &d : derivations_) {
    native_frames_ = std::min (native_frames_, file_->signals ()[d.pos].samples);
    const double scale = microvolt_scale (d.unit);
    for (int i : {d.pos, d.neg})
      if (i >= 0)
        check_physical_range (*file_, file_->signals ()[i], scale > 0 ? scale : 1.0);
    voltage_scale_.push_back (scale > 0 ? scale : 1.0);
    d.unit = scale > 0 ? "uV" : valid_utf8 (d.unit);
  }
  total_frames_ = (native_frames_ * rate_ + native_rate_ - 1) / native_rate_;
  if (rate_ != native_rate_) {
    try {
      resampler_ = std::make_unique<Resampler> ((int) derivations_.size (), native_rate_, rate_);
    } catch (const std::runtime_error &e) {
      throw EegError (EegError::kSelection, what + ": " + e.what ());
    }
  }
}

EegStream::~EegStream () = default;

std::vector<std::string>
EegStream::channel_names () const
{
  std::vector<std::string> out;
  for (const Derivation &d : derivations_)
    out.push_back (d.name);
  return out;
}

std::vector<std::string>
EegStream::units () const
{
  std::vector<std::string> out;
  for (const Derivation &d : derivations_)
    out.push_back (d.unit);
  return out;
}

size_t
EegStream::read_native (int64_t first, size_t n, std::vector<float> &out) const
{
  n = (size_t) std::min<int64_t> ((int64_t) n, native_frames_ - first);
  const size_t nch = derivations_.size ();
  const size_t base = out.size ();
  out.resize (base + n * nch);
  std::vector<double> pos (n), neg (n);
  for (size_t c = 0; c < nch; c++) {
    const Derivation &d = derivations_[c];
    file_->read (d.pos, first, (int) n, pos.data ());
    if (d.neg >= 0)
      file_->read (d.neg, first, (int) n, neg.data ());
    for (size_t i = 0; i < n; i++)
      out[base + i * nch + c] =
          (float) ((pos[i] - (d.neg >= 0 ? neg[i] : 0.0)) * voltage_scale_[c]);
  }
  return n;
}

size_t
EegStream::read_resampled (size_t max_frames, std::vector<float> &out)
{
  const size_t nch = derivations_.size ();
  const size_t want = (size_t) std::min<int64_t> ((int64_t) max_frames, total_frames_ - out_pos_);
  std::vector<float> in;
  while (ready_.size () / nch < want + discard_ && in_pos_ < native_frames_) {
    const size_t chunk = std::max<size_t> (256, want * native_rate_ / rate_ + 1);
    in.clear ();
    in_pos_ += (int64_t) read_native (in_pos_, chunk, in);
    resampler_->process (in.data (), in.size () / nch, in_pos_ >= native_frames_, ready_);
  }
  const size_t drop = (size_t) std::min<int64_t> (discard_, (int64_t) (ready_.size () / nch));
  ready_.erase (ready_.begin (), ready_.begin () + drop * nch);
  discard_ -= (int64_t) drop;
  /* The sinc filter may end a frame short of the nominal length: hold the last value. */
  while (ready_.size () / nch < want && in_pos_ >= native_frames_) {
    if (ready_.empty ())
      ready_.assign (nch, 0.0f);
    else
      ready_.insert (ready_.end (), ready_.end () - nch, ready_.end ());
  }
  const size_t n = std::min (want, ready_.size () / nch);
  out.insert (out.end (), ready_.begin (), ready_.begin () + n * nch);
  ready_.erase (ready_.begin (), ready_.begin () + n * nch);
  return n;
}

size_t
EegStream::read (size_t max_frames, std::vector<float> &out)
{
  if (out_pos_ >= total_frames_)
    return 0;
  const size_t n = resampler_ ? read_resampled (max_frames, out)
                              : read_native (out_pos_, max_frames, out);
  out_pos_ += (int64_t) n;
  return n;
}

void
EegStream::seek (int64_t frame)
{
  out_pos_ = std::clamp<int64_t> (frame, 0, total_frames_);
  if (!resampler_)
    return;
  /* Restart the converter about one second early, on an input frame that falls
   * exactly on an output frame, and drop the pre-roll: the output after a seek
   * then matches the output of an uninterrupted run. */
  const int64_t g = std::gcd (native_rate_, rate_);
  const int64_t in_step = native_rate_ / g, out_step = rate_ / g;
  const int64_t start_out = std::max<int64_t> (0, out_pos_ - rate_);
  const int64_t k = start_out / out_step;
  in_pos_ = k * in_step;
  discard_ = out_pos_ - k * out_step;
  ready_.clear ();
  resampler_->reset ();
}

EegRecording
read_eeg_file (const std::string &path, const std::vector<std::string> &channels,
    const std::vector<std::string> &montage, int rate)
{
  EegStream stream (path, channels, montage, rate);
  EegRecording rec;
  rec.channel_names = stream.channel_names ();
  rec.units = stream.units ();
  rec.rate = stream.rate ();
  rec.annotations = stream.file ().annotations ();
  const size_t nch = stream.n_channels ();
  std::vector<float> interleaved;
  interleaved.reserve ((size_t) stream.total_frames () * nch);
  while (stream.read (4096, interleaved) > 0) {
  }
  rec.n_samples = interleaved.size () / nch;
  rec.samples.resize (interleaved.size ());
  for (size_t i = 0; i < rec.n_samples; i++)
    for (size_t c = 0; c < nch; c++)
      rec.samples[c * rec.n_samples + i] = interleaved[i * nch + c];
  return rec;
}

}  // namespace neuro
