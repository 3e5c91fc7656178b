package installer

import (
	"github.com/universal-atomic-installer/uai/installer/answers"
	"github.com/universal-atomic-installer/uai/partition"
)

// Request is what the user asked for, from any front-end: answer file,
// flags or TUI. Secrets (passphrases) live here and in the engine's
// memory only; the Plan records that they are set, never their values.
type Request struct {
	EditionID string
	// Image is a custom bootc image ref (instead of EditionID).
	Image string
	// TargetRef overrides the ref the installed system updates from.
	TargetRef string
	// DiskPath names the target disk directly; Selector picks it by its
	// facts. Exactly one is used: DiskPath wins when both are set.
	DiskPath        string
	Selector        partition.Selector
	Wipe            bool
	PreserveOnError bool
	Storage         StorageRequest
	// Filesystem overrides the edition's default root filesystem.
	Filesystem string
	// Demo restricts targets to image files and stands the simulator in
	// for bootc and podman.
	Demo bool
	// TargetDir overrides DefaultTargetDir.
	TargetDir string
	// Arch is the OCI architecture to install for; empty means this machine's.
	Arch string
}

// StorageRequest says how to lay the disk out.
type StorageRequest struct {
	// Layout is "whole" (the default: the whole disk) or "free" (keep every
	// existing partition and install into the largest free region).
	Layout string
	// RootSizeBytes limits root; 0 means the rest of the disk or region.
	RootSizeBytes uint64
	// SeparateBoot adds a /boot partition (required with encryption).
	SeparateBoot bool
	Encryption   EncryptionRequest
}

// EncryptionRequest asks for LUKS2 on root.
type EncryptionRequest struct {
	// Enabled turns LUKS2 on.
	Enabled bool
	// Passphrase unlocks the volume (and is the recovery passphrase with TPM2).
	Passphrase string
	// TPM2 also enrols the machine's TPM2 so boot needs no typing.
	TPM2 bool
}

// RequestFromAnswers turns an answer file into a Request.
func RequestFromAnswers(a *answers.Answers) Request {
	return Request{
		EditionID:       a.Source.Edition,
		Image:           a.Source.Image,
		TargetRef:       a.Source.TargetRef,
		DiskPath:        a.Disk.Path,
		Wipe:            a.Disk.Wipe,
		PreserveOnError: a.Disk.PreserveOnError,
		Filesystem:      a.Storage.Filesystem,
	}
}
