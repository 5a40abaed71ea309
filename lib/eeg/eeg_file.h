// SPDX-License-Identifier: LGPL-2.1-or-later
/* Reading EEG recordings (EDF, EDF+, BDF, BDF+) with EDFlib.
 *
 * This is the one reader of the project: the eegsrc element streams through
 * EegStream, and offline tools (training, converters) call read_eeg_file(),
 * which drives the same EegStream to the end. Both therefore select channels,
 * build bipolar derivations and resample in exactly the same way.
 *
 * Values are float microvolts for every signal whose physical dimension is a
 * voltage (V, mV, uV, µV, nV); other signals (e.g. "bpm") keep their unit.
 *
 * What is refused (EegError, a std::runtime_error naming the file and the problem):
 *  - files EDFlib cannot open: missing, unreadable, not a regular file,
 *    truncated (size does not match the header), corrupt header, EDF+D
 *    (discontinuous) recordings. One exception: EDF+ files whose annotation
 *    signal has text in its transducer/dimension/prefilter fields (PhysioNet
 *    EEGMMIDB) are read through an anonymous in-memory copy (memfd, gone with
 *    the process) with those fields blanked;
 *  - a selected signal whose physical range exceeds kMaxPhysicalValue;
 *  - a selection whose signals have different sample rates (pick signals of one
 *    rate with `channels`), or a sample rate that is not a whole number of Hz
 *    (samples per data record / record duration); data records that are not
 *    1 s long are fine;
 *  - unknown channel labels, an empty selection, a malformed montage entry.
 * Labels, non-voltage units, identification fields and annotation texts are
 * returned as valid UTF-8: bytes that are not (Latin-1 text is common) become
 * U+FFFD, one per byte.
 * EDF+ annotation signals are never output as channels: their annotations are
 * returned separately. Patient and recording identification fields are only
 * returned by EdfFile::identification(), never by default. */
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

struct edf_hdr_struct;

namespace neuro {

/* Thrown for every problem with an EEG file; what() names the file. */
class EegError : public std::runtime_error
{
public:
  enum Kind {
    kOpen,       /* missing or unreadable file */
    kFormat,     /* not a valid EDF/BDF file, or a form this reader refuses */
    kSelection,  /* channels / montage / rate do not fit the file */
  };
  EegError (Kind kind, const std::string &what) : std::runtime_error (what), kind_ (kind) {}
  Kind kind () const { return kind_; }

private:
  Kind kind_;
};

/* One EDF+ annotation (time-stamped annotation list entry). */
struct EegAnnotation
{
  double onset = 0.0;      /* seconds from the start of the recording */
  double duration = -1.0;  /* seconds; negative when the file gives none */
  std::string text;
};

/* A whole recording read offline by read_eeg_file(). */
struct EegRecording
{
  std::vector<std::string> channel_names;  /* output channel order */
  std::vector<std::string> units;          /* one per channel, "uV" for voltages */
  int rate = 0;                            /* samples per second of `samples` */
  size_t n_samples = 0;                    /* samples per channel */
  /* Channel-major: channel c is samples[c * n_samples, (c + 1) * n_samples). */
  std::vector<float> samples;
  std::vector<EegAnnotation> annotations;  /* sorted by onset */

  const float *channel (size_t c) const { return samples.data () + c * n_samples; }
};

/* Reads a whole EDF/EDF+/BDF/BDF+ file.
 *  channels: labels to keep, in that order (empty = every signal, unless a
 *            montage is given). Labels match after trimming spaces and trailing
 *            dots, ignoring case and a leading "EEG " (so "fc5" finds "Fc5."
 *            and "Fp1" finds "EEG Fp1").
 *  montage:  bipolar derivations "A-B" (A minus B) appended after `channels`.
 *  rate:     output sample rate in Hz; 0 keeps the file's rate. Resampling uses
 *            libsamplerate (sinc, medium quality) for any channel count.
 * Throws EegError (a std::runtime_error) whose message names the file. */
EegRecording read_eeg_file (const std::string &path,
    const std::vector<std::string> &channels = {},
    const std::vector<std::string> &montage = {}, int rate = 0);

/* One signal of the file as the header describes it. */
struct EdfSignal
{
  std::string label;       /* as in the header, trailing spaces trimmed */
  std::string unit;        /* physical dimension as in the header */
  int samples_per_record = 0;
  int64_t samples = 0;     /* samples of this signal in the file */
  double physical_min = 0.0;  /* header's physical range, in `unit` */
  double physical_max = 0.0;
};

/* Largest physical value magnitude accepted, in output units (microvolts for
 * voltages): 1 kV. Beyond it a header is corrupt, and its samples would
 * overflow the float pipeline (the spectra become infinite). */
constexpr double kMaxPhysicalValue = 1e9;

/* An open EDF/BDF file (RAII over an EDFlib handle). */
class EdfFile
{
public:
  explicit EdfFile (const std::string &path);
  ~EdfFile ();
  EdfFile (const EdfFile &) = delete;
  EdfFile &operator= (const EdfFile &) = delete;

  const std::string &path () const { return path_; }
  const std::vector<EdfSignal> &signals () const { return signals_; }
  const std::vector<EegAnnotation> &annotations () const { return annotations_; }
  /* Data record duration in units of 100 ns (EDFlib's time unit). */
  int64_t record_duration () const { return record_duration_; }
  /* Start of the recording (header startdate/starttime, plus the EDF+
   * subsecond offset) in ns since the Unix epoch, read as UTC as MNE does:
   * EDF stores local clock time without a zone. */
  int64_t start_unix_ns () const { return start_unix_ns_; }
  /* "EDF", "EDF+", "BDF" or "BDF+". */
  const char *format_name () const;
  /* Patient and recording identification (privacy sensitive): only for
   * callers that were explicitly asked to expose it. key=value lines. */
  std::vector<std::string> identification () const;

  /* Deviations from the format that were tolerated, for logging. */
  const std::vector<std::string> &notes () const { return notes_; }

  /* Reads n physical samples of signal `sig` starting at sample `first`.
   * Throws EegError on a read error or a short read. */
  void read (int sig, int64_t first, int n, double *out) const;

private:
  void open (edf_hdr_struct *hdr);

  std::string path_;
  int handle_ = -1;
  int filetype_ = 0;
  int64_t record_duration_ = 0;
  int64_t start_unix_ns_ = 0;
  std::vector<EdfSignal> signals_;
  std::vector<EegAnnotation> annotations_;
  std::vector<std::string> identification_;
  std::vector<std::string> notes_;
};

/* Output channel: signal `pos` minus signal `neg` (neg < 0 for a plain signal). */
struct Derivation
{
  std::string name;
  std::string unit;
  int pos = -1;
  int neg = -1;
};

/* Resolves `channels` then `montage` against the file's signals (see
 * read_eeg_file for the rules). `what` names the file in error messages. */
std::vector<Derivation> select_derivations (const std::vector<EdfSignal> &signals,
    const std::vector<std::string> &channels, const std::vector<std::string> &montage,
    const std::string &what);

class Resampler;

/* Streams interleaved float frames of the selected derivations from a file at
 * the requested output rate. Output frame k is the signal at time k / rate(). */
class EegStream
{
public:
  EegStream (const std::string &path, const std::vector<std::string> &channels,
      const std::vector<std::string> &montage, int rate);
  ~EegStream ();

  const EdfFile &file () const { return *file_; }
  std::vector<std::string> channel_names () const;
  std::vector<std::string> units () const;
  size_t n_channels () const { return derivations_.size (); }
  int native_rate () const { return native_rate_; }
  int rate () const { return rate_; }
  /* Output frames in the whole file at rate(): ceil(native frames * rate / native). */
  int64_t total_frames () const { return total_frames_; }
  int64_t position () const { return out_pos_; }

  /* Appends up to max_frames interleaved frames to `out`; returns how many
   * (0 at the end of the file). */
  size_t read (size_t max_frames, std::vector<float> &out);
  /* Continues from output frame `frame` (clamped to the end). */
  void seek (int64_t frame);

private:
  size_t read_native (int64_t first, size_t n, std::vector<float> &out) const;
  size_t read_resampled (size_t max_frames, std::vector<float> &out);

  std::unique_ptr<EdfFile> file_;
  std::vector<Derivation> derivations_;
  std::vector<double> voltage_scale_;  /* to microvolts, per derivation */
  int native_rate_ = 0;
  int rate_ = 0;
  int64_t native_frames_ = 0;
  int64_t total_frames_ = 0;
  int64_t out_pos_ = 0;     /* next output frame */
  int64_t in_pos_ = 0;      /* next native frame to feed the resampler */
  int64_t discard_ = 0;     /* resampled pre-roll frames to drop after a seek */
  std::unique_ptr<Resampler> resampler_;
  std::vector<float> ready_;  /* resampled frames not returned yet */
};

}  // namespace neuro
