-- ~/.config/nvim/init.lua — the whole nvim directory is one link
require("options")
