module github.com/universal-atomic-installer/uai

go 1.26.7
