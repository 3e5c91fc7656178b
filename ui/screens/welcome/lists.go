package welcome

import "github.com/universal-atomic-installer/uai/ui/components/picker"

// Languages are the locales offered, named in English: the console font of
// a live ISO has Latin letters only, so names in their own scripts would
// show as boxes. Any other locale can come from an answer file.
var Languages = []picker.Item{
	{Value: "en_US.UTF-8", Label: "English (United States)"},
	{Value: "en_GB.UTF-8", Label: "English (United Kingdom)"},
	{Value: "en_CA.UTF-8", Label: "English (Canada)"},
	{Value: "en_AU.UTF-8", Label: "English (Australia)"},
	{Value: "en_IN.UTF-8", Label: "English (India)"},
	{Value: "de_DE.UTF-8", Label: "German (Germany)"},
	{Value: "de_AT.UTF-8", Label: "German (Austria)"},
	{Value: "de_CH.UTF-8", Label: "German (Switzerland)"},
	{Value: "fr_FR.UTF-8", Label: "French (France)"},
	{Value: "fr_CA.UTF-8", Label: "French (Canada)"},
	{Value: "fr_BE.UTF-8", Label: "French (Belgium)"},
	{Value: "es_ES.UTF-8", Label: "Spanish (Spain)"},
	{Value: "es_MX.UTF-8", Label: "Spanish (Mexico)"},
	{Value: "es_AR.UTF-8", Label: "Spanish (Argentina)"},
	{Value: "it_IT.UTF-8", Label: "Italian (Italy)"},
	{Value: "pt_BR.UTF-8", Label: "Portuguese (Brazil)"},
	{Value: "pt_PT.UTF-8", Label: "Portuguese (Portugal)"},
	{Value: "nl_NL.UTF-8", Label: "Dutch (Netherlands)"},
	{Value: "nl_BE.UTF-8", Label: "Dutch (Belgium)"},
	{Value: "sv_SE.UTF-8", Label: "Swedish (Sweden)"},
	{Value: "nb_NO.UTF-8", Label: "Norwegian Bokmal (Norway)"},
	{Value: "da_DK.UTF-8", Label: "Danish (Denmark)"},
	{Value: "fi_FI.UTF-8", Label: "Finnish (Finland)"},
	{Value: "is_IS.UTF-8", Label: "Icelandic (Iceland)"},
	{Value: "pl_PL.UTF-8", Label: "Polish (Poland)"},
	{Value: "cs_CZ.UTF-8", Label: "Czech (Czechia)"},
	{Value: "sk_SK.UTF-8", Label: "Slovak (Slovakia)"},
	{Value: "hu_HU.UTF-8", Label: "Hungarian (Hungary)"},
	{Value: "ro_RO.UTF-8", Label: "Romanian (Romania)"},
	{Value: "hr_HR.UTF-8", Label: "Croatian (Croatia)"},
	{Value: "sl_SI.UTF-8", Label: "Slovenian (Slovenia)"},
	{Value: "et_EE.UTF-8", Label: "Estonian (Estonia)"},
	{Value: "lv_LV.UTF-8", Label: "Latvian (Latvia)"},
	{Value: "lt_LT.UTF-8", Label: "Lithuanian (Lithuania)"},
	{Value: "el_GR.UTF-8", Label: "Greek (Greece)"},
	{Value: "tr_TR.UTF-8", Label: "Turkish (Turkey)"},
	{Value: "ru_RU.UTF-8", Label: "Russian (Russia)"},
	{Value: "uk_UA.UTF-8", Label: "Ukrainian (Ukraine)"},
	{Value: "he_IL.UTF-8", Label: "Hebrew (Israel)"},
	{Value: "ar_EG.UTF-8", Label: "Arabic (Egypt)"},
	{Value: "hi_IN.UTF-8", Label: "Hindi (India)"},
	{Value: "ja_JP.UTF-8", Label: "Japanese (Japan)"},
	{Value: "ko_KR.UTF-8", Label: "Korean (South Korea)"},
	{Value: "zh_CN.UTF-8", Label: "Chinese (China)"},
	{Value: "zh_TW.UTF-8", Label: "Chinese (Taiwan)"},
	{Value: "C.UTF-8", Label: "No language (C.UTF-8)"},
}

// Keymaps are console keymaps from the kbd package, as localectl
// list-keymaps names them.
var Keymaps = []picker.Item{
	{Value: "us", Label: "English (US)"},
	{Value: "us-acentos", Label: "English (US, international with dead keys)"},
	{Value: "uk", Label: "English (UK)"},
	{Value: "dvorak", Label: "English (Dvorak)"},
	{Value: "colemak", Label: "English (Colemak)"},
	{Value: "de", Label: "German"},
	{Value: "de-nodeadkeys", Label: "German (no dead keys)"},
	{Value: "de_CH-latin1", Label: "German (Switzerland)"},
	{Value: "fr", Label: "French"},
	{Value: "fr-latin9", Label: "French (Latin-9)"},
	{Value: "fr_CH", Label: "French (Switzerland)"},
	{Value: "be-latin1", Label: "Belgian"},
	{Value: "ca", Label: "French (Canada)"},
	{Value: "es", Label: "Spanish"},
	{Value: "la-latin1", Label: "Spanish (Latin America)"},
	{Value: "it", Label: "Italian"},
	{Value: "pt-latin1", Label: "Portuguese"},
	{Value: "br-abnt2", Label: "Portuguese (Brazil, ABNT2)"},
	{Value: "nl", Label: "Dutch"},
	{Value: "sv-latin1", Label: "Swedish"},
	{Value: "no", Label: "Norwegian"},
	{Value: "dk", Label: "Danish"},
	{Value: "fi", Label: "Finnish"},
	{Value: "is-latin1", Label: "Icelandic"},
	{Value: "pl2", Label: "Polish"},
	{Value: "cz-qwertz", Label: "Czech (QWERTZ)"},
	{Value: "sk-qwertz", Label: "Slovak (QWERTZ)"},
	{Value: "hu", Label: "Hungarian"},
	{Value: "ro", Label: "Romanian"},
	{Value: "croat", Label: "Croatian"},
	{Value: "slovene", Label: "Slovenian"},
	{Value: "et", Label: "Estonian"},
	{Value: "lt", Label: "Lithuanian"},
	{Value: "gr", Label: "Greek"},
	{Value: "trq", Label: "Turkish (Q)"},
	{Value: "ru", Label: "Russian"},
	{Value: "ua", Label: "Ukrainian"},
	{Value: "il", Label: "Hebrew"},
	{Value: "jp106", Label: "Japanese (106 keys)"},
	{Value: "kr106", Label: "Korean (106 keys)"},
}

// label returns the label of value in items, or value itself.
func label(items []picker.Item, value string) string {
	for _, it := range items {
		if it.Value == value {
			return it.Label
		}
	}
	return value
}

// withValue returns items, with value added at the end when it is missing
// (a locale the live system already had).
func withValue(items []picker.Item, value string) []picker.Item {
	if value == "" {
		return items
	}
	for _, it := range items {
		if it.Value == value {
			return items
		}
	}
	return append(append([]picker.Item(nil), items...), picker.Item{Value: value, Label: value})
}
