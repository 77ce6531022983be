"""One screen per mode; dialogs are typed ModalScreens that return through dismiss()."""
