#!/usr/bin/perl
# The disk stage of the machine's limit (bench/lib/limits.mjs): writes each blob's size of zeros to
# a file and syncs it, 4 files at a time, in one process and 4 forked workers, as a pull writes and
# syncs its blobs: through the page cache, each file synced before the next is started. Perl (part
# of every Debian system, perl-base) rather than a `dd` per blob: 64 dd processes and their shells
# took most of the stage's time for 64 blobs of 1 MiB, so the stage measured process starts, not
# the disk.
#
#   perl limit-disk.pl PATH SIZE [PATH SIZE…]
use strict;
use warnings;
use IO::Handle;
use POSIX ();

my @jobs;
while (@ARGV) {
  my ($path, $size) = splice(@ARGV, 0, 2);
  die "usage: limit-disk.pl PATH SIZE [PATH SIZE...]\n" unless defined $size && $size =~ /^\d+$/;
  push @jobs, [$path, $size];
}
my $WORKERS = 4;
my $zeros = "\0" x (1 << 20);

# A pipe of job numbers, one byte each: the workers take the next file as they finish one, as the
# tools' four slots do.
pipe(my $reader, my $writer) or die "pipe: $!\n";
my @pids;
for (1 .. $WORKERS) {
  my $pid = fork() // die "fork: $!\n";
  if ($pid == 0) {
    close $writer;
    my $status = 0;
    while (sysread($reader, my $packed, 4) == 4) {
      my ($path, $size) = @{ $jobs[unpack('N', $packed)] };
      open(my $fh, '>:raw', $path) or do { warn "$path: $!\n"; $status = 1; last };
      for (my $left = $size; $left > 0; ) {
        my $written = syswrite($fh, $zeros, $left < length($zeros) ? $left : length($zeros));
        defined $written or die "$path: $!\n";
        $left -= $written;
      }
      # fsync: perl's core has no fdatasync; for a file just written the two commit the same.
      $fh->sync or die "$path: sync: $!\n";
      close $fh or die "$path: $!\n";
    }
    POSIX::_exit($status);
  }
  push @pids, $pid;
}
close $reader;
syswrite($writer, pack('N', $_), 4) == 4 or die "pipe: $!\n" for 0 .. $#jobs;
close $writer;
my $failed = 0;
for my $pid (@pids) {
  waitpid($pid, 0);
  $failed = 1 if $? != 0;
}
exit $failed;
